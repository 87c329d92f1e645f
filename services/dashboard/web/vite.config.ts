import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The BFF (services/dashboard, :8083) serves dist/ and /api; `npm run dev` forwards /api to it.
const bff = process.env.COGNIFY_DASHBOARD_URL ?? "http://127.0.0.1:8083";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    // No inline script anywhere (CSP script-src 'self'): no modulepreload polyfill snippet.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2_000,
    sourcemap: false,
  },
  server: { proxy: { "/api": { target: bff, changeOrigin: false } } },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});

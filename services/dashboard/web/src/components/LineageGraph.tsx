import {
  Handle,
  Position,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Edge,
  type Node,
  type NodeProps,
} from "@xyflow/react";
import { memo, useCallback, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { buildView, expandSample, type ViewNode } from "../lib/graph";
import { fitViewport, layout, move, NODE_HEIGHT, NODE_WIDTH, type Direction, type Positioned } from "../lib/layout";
import type { HashProgress } from "../live";
import type { Lineage } from "../types";

type LineageNodeData = { view: ViewNode; progress: HashProgress | undefined; selected: boolean };
type FlowNode = Node<LineageNodeData, "lineage">;

const TYPE_LABEL: Record<string, string> = {
  dataset: "Dataset",
  config: "Config",
  checkpoint: "Checkpoint",
  eval: "Evaluation",
  model: "Model",
};

const LineageNodeBox = memo(function LineageNodeBox({ data }: NodeProps<FlowNode>) {
  const v = data.view;
  const p = data.progress;
  const pct = p && p.bytes_total > 0 ? Math.min(100, Math.round((100 * p.bytes_done) / p.bytes_total)) : null;
  // The node's accessible name is its id (or the group's label), and that is its only text
  // content: the type, step, hash and state are drawn by CSS from data-text (generated
  // content), so the visible label is the name (WCAG 2.5.3, axe label-content-name-mismatch),
  // and they reach assistive technology as the node's description (aria-describedby):
  // "ckpt_step_6, button, Checkpoint, step 6, sha256:…, hash computed".
  const state = pct !== null && v.state === "pending" ? `hashing ${pct}%` : v.stateText;
  const description = [
    v.group ? `${TYPE_LABEL[v.type] ?? v.type} group` : (TYPE_LABEL[v.type] ?? v.type),
    v.group ? "" : v.detail,
    v.hashShort,
    state,
    v.findings > 0 ? `${v.findings} open finding${v.findings === 1 ? "" : "s"}` : "",
    v.group ? "Enter to expand" : "Enter for details",
  ]
    .filter(Boolean)
    .join(", ");
  return (
    <div className={`lnode t-${v.type} s-${v.state}${v.group ? " group" : ""}${data.selected ? " picked" : ""}`}>
      <span id={describedBy(v.id)} className="sr-only" aria-hidden="true">
        {description}
      </span>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="lnode-head" aria-hidden="true">
        <span className="lnode-type" data-text={v.group ? `${TYPE_LABEL[v.type] ?? v.type} group` : (TYPE_LABEL[v.type] ?? v.type)} />
        {v.findings > 0 ? <span className="lnode-flag" data-text={`⚑ ${v.findings} finding${v.findings === 1 ? "" : "s"}`} /> : null}
      </div>
      <div className="lnode-id" title={v.label}>
        {v.label}
      </div>
      {v.detail ? (v.group ? <div className="lnode-detail">{v.detail}</div> : <div className="lnode-detail" aria-hidden="true" data-text={v.detail} />) : null}
      <div className="lnode-foot" aria-hidden="true">
        {v.hashShort ? <code className="lnode-hash" data-text={v.hashShort} /> : null}
        <span className={`hash-state hs-${v.state}`} data-text={`${STATE_ICON[v.state]} ${state}`} />
      </div>
      {pct !== null && v.state === "pending" ? (
        <div className="lnode-progress" aria-hidden="true">
          <progress max={100} value={pct} />
        </div>
      ) : null}
      {v.group ? <div className="lnode-hint" aria-hidden="true" data-text="Enter to expand" /> : null}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});

const STATE_ICON: Record<string, string> = { computed: "✓", pending: "◷", failed: "✕", group: "▤" };

const nodeTypes = { lineage: LineageNodeBox };

function describedBy(nodeId: string): string {
  return `lnode-desc-${nodeId}`;
}

export interface GraphProps {
  lineage: Lineage;
  findings: ReadonlyMap<string, number>;
  selected: string | null;
  onSelect: (id: string | null) => void;
  progress: ReadonlyMap<string, HashProgress>;
}

export function LineageGraph(props: GraphProps) {
  return (
    <ReactFlowProvider>
      <Graph {...props} />
    </ReactFlowProvider>
  );
}

function Graph({ lineage, findings, selected, onSelect, progress }: GraphProps) {
  const flow = useReactFlow();
  const id = useId();
  const [showAll, setShowAll] = useState(false);
  const [depth, setDepth] = useState<number | null>(null);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [laid, setLaid] = useState<Map<string, Positioned> | null>(null);
  const [layoutError, setLayoutError] = useState<string | null>(null);
  const [boxWidth, setBoxWidth] = useState(1000);
  const wrapper = useRef<HTMLDivElement>(null);
  const large = lineage.nodes.length > 60;

  const view = useMemo(
    () => buildView(lineage, { focus: depth !== null ? selected : null, depth, showAll, expanded }, findings),
    [lineage, depth, selected, showAll, expanded, findings],
  );

  useEffect(() => {
    let live = true;
    layout(view).then(
      (pos) => {
        if (!live) return;
        setBoxWidth(wrapper.current?.clientWidth ?? 1000);
        setLaid(pos);
        setLayoutError(null);
      },
      (err: unknown) => live && setLayoutError(String(err)),
    );
    return () => {
      live = false;
    };
  }, [view]);

  const nodes: FlowNode[] = useMemo(() => {
    if (!laid) return [];
    return view.nodes.map((v) => {
      const at = laid.get(v.id);
      return {
        id: v.id,
        type: "lineage",
        position: { x: at?.x ?? 0, y: at?.y ?? 0 },
        // The laid-out size, given: each reload makes new node objects, and React Flow keeps
        // a node without dimensions hidden until it measures it again, which after a seal
        // left the whole graph blank (browser test: every node drawn after the seal).
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
        data: { view: v, progress: progress.get(v.id), selected: v.id === selected },
        ariaRole: "button",
        ariaLabel: v.group ? `${v.label}${v.detail ? `, ${v.detail}` : ""}` : v.id,
        domAttributes: { "aria-describedby": describedBy(v.id) },
        draggable: false,
        connectable: false,
        selectable: true,
        selected: v.id === selected,
      };
    });
  }, [view, laid, progress, selected]);

  const edges: Edge[] = useMemo(
    () =>
      view.edges.map((e) => {
        const target = view.nodes.find((n) => n.id === e.target);
        return {
          id: e.id,
          source: e.source,
          target: e.target,
          focusable: false,
          className: target?.state === "failed" ? "gap" : undefined,
        };
      }),
    [view],
  );

  // The drawing's height follows the graph's shape at the zoom that fits its width, so a
  // short graph is not a band in a tall empty box (React sets it through the CSSOM: CSP-safe).
  const height = useMemo(() => {
    if (!laid || laid.size === 0) return 420;
    let w = 0;
    let h = 0;
    for (const p of laid.values()) {
      w = Math.max(w, p.x + NODE_WIDTH);
      h = Math.max(h, p.y + NODE_HEIGHT);
    }
    const zoom = Math.min(1.1, (boxWidth - 40) / Math.max(1, w));
    return Math.round(Math.min(620, Math.max(260, h * zoom + 70)));
  }, [laid, boxWidth]);

  // Fit once the layout of a new view is drawn.
  useEffect(() => {
    if (!laid) return;
    const t = window.setTimeout(() => void flow.setViewport(fitViewport(laid, wrapper.current?.clientWidth ?? boxWidth, height)), 30);
    return () => window.clearTimeout(t);
  }, [laid, height, flow, boxWidth]);

  const activate = useCallback(
    (nodeId: string) => {
      const v = view.nodes.find((n) => n.id === nodeId);
      if (v?.group) {
        setExpanded((old) => new Set([...old, ...expandSample(v.members)]));
        return;
      }
      onSelect(nodeId);
    },
    [view, onSelect],
  );

  const focusNode = (nodeId: string) => {
    const el = wrapper.current?.querySelector<HTMLElement>(`.react-flow__node[data-id="${CSS.escape(nodeId)}"]`);
    el?.focus();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const target = e.target as HTMLElement;
    const nodeEl = target.closest<HTMLElement>(".react-flow__node");
    const nodeId = nodeEl?.dataset["id"];
    if (!nodeId) return;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      e.stopPropagation();
      activate(nodeId);
      return;
    }
    const dirs: Record<string, Direction> = { ArrowLeft: "left", ArrowRight: "right", ArrowUp: "up", ArrowDown: "down" };
    const dir = dirs[e.key];
    if (dir && laid) {
      e.preventDefault();
      e.stopPropagation();
      const next = move(laid, nodeId, dir);
      if (next) focusNode(next);
    }
  };

  return (
    <section className="graph-region" aria-labelledby={`${id}-title`}>
      <div className="graph-toolbar">
        <h2 id={`${id}-title`}>Lineage</h2>
        <div className="toolbar-buttons">
          <button type="button" className="secondary" onClick={() => {
              if (laid) void flow.setViewport(fitViewport(laid, wrapper.current?.clientWidth ?? boxWidth, height), { duration: 200 });
            }}
          >
            Fit to screen
          </button>
          <button type="button" className="secondary" onClick={() => void flow.zoomIn({ duration: 150 })}>
            Zoom in
          </button>
          <button type="button" className="secondary" onClick={() => void flow.zoomOut({ duration: 150 })}>
            Zoom out
          </button>
        </div>
        <div className="field inline">
          <label htmlFor={`${id}-depth`}>Depth around selected node</label>
          <select
            id={`${id}-depth`}
            value={depth === null ? "" : String(depth)}
            onChange={(e) => setDepth(e.target.value === "" ? null : Number(e.target.value))}
          >
            <option value="">whole run</option>
            {[1, 2, 3, 4].map((d) => (
              <option key={d} value={d} disabled={selected === null}>
                {d} step{d === 1 ? "" : "s"}
              </option>
            ))}
          </select>
        </div>
        {large ? (
          <label className="check">
            <input type="checkbox" checked={showAll} disabled={lineage.nodes.length > 800} onChange={(e) => setShowAll(e.target.checked)} />
            Draw every node{lineage.nodes.length > 800 ? " (too many to draw)" : ""}
          </label>
        ) : null}
      </div>
      <p className="muted small graph-summary" aria-live="polite">
        {view.total.toLocaleString("en-US")} nodes
        {view.hidden > 0 ? `, ${view.hidden.toLocaleString("en-US")} folded into groups (select a group and press Enter to expand)` : ""}
        {depth !== null && selected ? `, showing ${depth} step${depth === 1 ? "" : "s"} around ${selected}` : ""}. Tab to a node, arrow keys to move, Enter for details.
        {expanded.size > 0 ? (
          <button type="button" className="link" onClick={() => setExpanded(new Set())}>
            Fold again
          </button>
        ) : null}
      </p>
      {layoutError ? (
        <p role="alert" className="error">
          The graph could not be laid out: {layoutError}
        </p>
      ) : null}
      <div className="graph" ref={wrapper} role="region" aria-label="Lineage graph" onKeyDownCapture={onKeyDown} style={{ height }}>
        {laid === null ? (
          <p className="muted pad" role="status">
            Laying out {view.nodes.length.toLocaleString("en-US")} nodes…
          </p>
        ) : null}
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          onNodeClick={(_, n) => activate(n.id)}
          onPaneClick={() => undefined}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable
          nodesFocusable
          edgesFocusable={false}
          zoomOnScroll={false}
          panOnScroll={false}
          preventScrolling={false}
          minZoom={0.05}
          maxZoom={2}
          proOptions={{ hideAttribution: true }}
        />
      </div>
    </section>
  );
}

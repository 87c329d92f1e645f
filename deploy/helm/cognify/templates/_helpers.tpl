{{/* The components this chart deploys, in order. */}}
{{- define "cognify.components" -}}
ingest lineage hasher exporter dashboard
{{- end }}

{{- define "cognify.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end }}

{{/* cognify.name: the object name of one component. Call with (dict "root" $ "c" "ingest"). */}}
{{- define "cognify.name" -}}
{{- printf "%s-%s" (include "cognify.fullname" .root) .c -}}
{{- end }}

{{- define "cognify.selectorLabels" -}}
app.kubernetes.io/name: cognify
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .c }}
{{- end }}

{{- define "cognify.labels" -}}
{{ include "cognify.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end }}

{{- define "cognify.image" -}}
{{- $img := .root.Values.image -}}
{{- $tag := $img.tag | default .root.Chart.AppVersion -}}
{{- if $img.registry -}}
{{- printf "%s/cognify-%s:%s" (trimSuffix "/" $img.registry) .c $tag -}}
{{- else -}}
{{- printf "cognify-%s:%s" .c $tag -}}
{{- end -}}
{{- end }}

{{/* Whether a component talks to PostgreSQL, S3 or serves an HTTP API. */}}
{{- define "cognify.usesPostgres" -}}{{- if has .c (list "ingest" "lineage" "exporter") -}}true{{- end -}}{{- end }}
{{- define "cognify.usesS3" -}}{{- if has .c (list "lineage" "hasher" "exporter") -}}true{{- end -}}{{- end }}
{{- define "cognify.usesKafka" -}}{{- if has .c (list "ingest" "lineage" "hasher" "exporter" "dashboard") -}}true{{- end -}}{{- end }}
{{- define "cognify.servesApi" -}}{{- if has .c (list "ingest" "lineage" "exporter" "dashboard") -}}true{{- end -}}{{- end }}

{{/* The Kafka topic a component's autoscaler watches, prefixed. */}}
{{- define "cognify.lagTopic" -}}
{{- $topics := dict "ingest" "cognify.events.raw" "lineage" "cognify.events" "hasher" "cognify.hash.jobs" -}}
{{- printf "%s%s" .root.Values.topicPrefix (get $topics .c) -}}
{{- end }}

{{- define "cognify.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ include "cognify.fullname" . }}{{- else -}}default{{- end -}}
{{- end }}

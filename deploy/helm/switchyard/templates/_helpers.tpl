{{/* The labels every object carries; the selector uses name and component only. */}}
{{- define "switchyard.selector" -}}
app.kubernetes.io/name: switchyard
app.kubernetes.io/component: gateway
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "switchyard.labels" -}}
{{ include "switchyard.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* The config text: values.config when set, else files/gateway.yaml. */}}
{{- define "switchyard.config" -}}
{{- if .Values.config }}{{ toYaml .Values.config }}{{ else }}{{ .Files.Get "files/gateway.yaml" }}{{ end }}
{{- end }}

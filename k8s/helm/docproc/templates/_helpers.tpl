{{/* The app name of each pool (its image and Deployment suffix). */}}
{{- define "docproc.poolApp" -}}
{{- $apps := dict "preprocess" "worker-preprocessing" "ocr" "worker-ocr" "nlp" "worker-nlp" "validate" "worker-validation" -}}
{{- get $apps . -}}
{{- end -}}

{{/* An app's image: the release's tag, the chart's appVersion unless image.tag names one. */}}
{{- define "docproc.image" -}}
{{ .root.Values.image.repository }}/{{ .app }}:{{ .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- end -}}

{{- define "docproc.labels" -}}
app.kubernetes.io/part-of: docproc
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- define "docproc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ .Values.serviceAccount.name | default (printf "%s-docproc" .Release.Name) }}
{{- else -}}
{{ .Values.serviceAccount.name | default "default" }}
{{- end -}}
{{- end -}}

{{/*
A pod template's metadata: its labels, the pod annotations (own, else every pod's), and
a checksum of the ConfigMap, so a change of config rolls the pods that read it.
Called with (dict "root" $ "name" <Deployment name> "component" <component> "own" <values>).
*/}}
{{- define "docproc.podMetadata" -}}
labels:
  app.kubernetes.io/name: {{ .name }}
  app.kubernetes.io/component: {{ .component }}
  app.kubernetes.io/instance: {{ .root.Release.Name }}
  app.kubernetes.io/part-of: docproc
  {{- with .root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
  {{- with .extraLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  checksum/config: {{ include (print .root.Template.BasePath "/configmap.yaml") .root | sha256sum }}
  {{- with (.own.podAnnotations | default .root.Values.podAnnotations) }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
  {{- with .annotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* Where a Deployment's pods run: its own nodeSelector, tolerations and affinity, else every pod's; the topology spread with its own selector. */}}
{{- define "docproc.scheduling" -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (.own.nodeSelector | default .root.Values.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (.own.tolerations | default .root.Values.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (.own.affinity | default .root.Values.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .root.Values.topologySpread }}
topologySpreadConstraints:
  {{- range .root.Values.topologySpread }}
  - topologyKey: {{ .topologyKey }}
    maxSkew: {{ .maxSkew }}
    whenUnsatisfiable: {{ .whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        app.kubernetes.io/name: {{ $.name }}
  {{- end }}
{{- end }}
{{- end -}}

{{- define "docproc.podSecurity" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "docproc.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{- define "docproc.env" -}}
envFrom:
  - configMapRef:
      name: {{ .Release.Name }}-config
  - secretRef:
      name: {{ .Values.existingSecret }}
{{- end -}}

{{- define "docproc.volumes" -}}
- name: data
{{- if eq .Values.blobStore.type "local" }}
  persistentVolumeClaim:
    claimName: {{ .Values.blobStore.localClaim }}
{{- else }}
  emptyDir: {}
{{- end }}
- name: tmp
  emptyDir: {}
{{- end -}}

{{/*
Seconds a pool's task may run as config.DOCPROC_STEP_TIMEOUT_MS sets it (one value for
every step, or step=ms pairs), 0 where it does not name the step (the default applies,
which the pools' grace periods already exceed).
*/}}
{{- define "docproc.stepTimeoutSeconds" -}}
{{- $given := include "docproc.configText" (get .root.Values.config "DOCPROC_STEP_TIMEOUT_MS" | default "") -}}
{{- $ms := 0 -}}
{{- if and $given (not (contains "=" $given)) -}}
{{- $ms = int64 $given -}}
{{- else -}}
{{- range splitList "," $given -}}
{{- $pair := splitList "=" (trim .) -}}
{{- if and (eq (len $pair) 2) (eq (trim (first $pair)) $.step) -}}
{{- $ms = int64 (trim (last $pair)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- div (add $ms 999) 1000 -}}
{{- end -}}

{{/* A config value as the environment gets it: whole numbers as written (YAML reads 3600000 as a float). */}}
{{- define "docproc.configText" -}}
{{- if and (kindIs "float64" .) (eq (float64 (int64 .)) .) -}}
{{ int64 . }}
{{- else -}}
{{ toString . }}
{{- end -}}
{{- end -}}

{{/* The app name of each pool (its image and Deployment suffix). */}}
{{- define "docproc.poolApp" -}}
{{- $apps := dict "preprocess" "worker-preprocessing" "ocr" "worker-ocr" "nlp" "worker-nlp" "validate" "worker-validation" -}}
{{- get $apps . -}}
{{- end -}}

{{- define "docproc.image" -}}
{{ .root.Values.image.repository }}/{{ .app }}:{{ .root.Values.image.tag }}
{{- end -}}

{{- define "docproc.labels" -}}
app.kubernetes.io/part-of: docproc
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
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

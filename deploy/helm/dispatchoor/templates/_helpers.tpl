{{- define "dispatchoor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dispatchoor.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "dispatchoor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dispatchoor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "dispatchoor.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "dispatchoor.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "dispatchoor.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "dispatchoor.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "dispatchoor.secretName" -}}
{{- default (include "dispatchoor.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* Refuse what cannot work, with the reason. */}}
{{- define "dispatchoor.validate" -}}
{{- if not (has .Values.database.driver (list "sqlite" "postgres")) -}}
{{- fail (printf "database.driver must be sqlite or postgres, not %q" .Values.database.driver) -}}
{{- end -}}
{{- if and (eq .Values.database.driver "sqlite") (gt (int .Values.replicaCount) 1) -}}
{{- fail (printf "replicaCount is %d but database.driver is sqlite: SQLite serves one replica only (its file is locked by the leader). Set replicaCount: 1, or use database.driver: postgres for several replicas." (int .Values.replicaCount)) -}}
{{- end -}}
{{- if and (eq .Values.database.driver "postgres") (not .Values.secrets.existingSecret) (not .Values.secrets.databaseURL) -}}
{{- fail "database.driver is postgres: set secrets.databaseURL or secrets.existingSecret with a DATABASE_URL key" -}}
{{- end -}}
{{- if and (not .Values.secrets.existingSecret) (not .Values.secrets.secretKey) -}}
{{- fail "set secrets.secretKey (head -c32 /dev/urandom | base64) or secrets.existingSecret: it seals the App's credentials and sessions" -}}
{{- end -}}
{{- end -}}

{{/* The config file: what the chart owns, with .Values.config merged over it. */}}
{{- define "dispatchoor.config" -}}
{{- $db := dict "driver" .Values.database.driver -}}
{{- if eq .Values.database.driver "sqlite" -}}
{{- $_ := set $db "sqlite" (dict "path" .Values.database.sqlite.path) -}}
{{- else -}}
{{- $_ := set $db "postgres" (dict "dsn" "${DATABASE_URL}") -}}
{{- end -}}
{{- $github := dict "web_url" .Values.github.webURL "api_url" .Values.github.apiURL -}}
{{- if .Values.github.appID -}}
{{- $_ := set $github "app" (dict "id" (int64 .Values.github.appID) "private_key" "${GITHUB_APP_PRIVATE_KEY}" "webhook_secret" "${GITHUB_WEBHOOK_SECRET}") -}}
{{- end -}}
{{- $users := list (dict "username" .Values.adminUser "password" "${ADMIN_PASSWORD}" "role" "admin") -}}
{{- $base := dict
  "server" (dict "listen" ":9090" "public_url" .Values.publicURL)
  "database" $db
  "github" $github
  "auth" (dict "basic" (dict "enabled" true "users" $users))
-}}
{{- mustMergeOverwrite $base (deepCopy .Values.config) | toYaml -}}
{{- end -}}

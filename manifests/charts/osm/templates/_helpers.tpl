{{/*
Common labels of every object of the release.
*/}}
{{- define "osm.labels" -}}
app.kubernetes.io/part-of: osm
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
openservicemesh.io/mesh-name: {{ .Values.osm.meshName }}
{{- end }}

{{/*
Selector labels of osm-injector (immutable once installed).
*/}}
{{- define "osm.injector.selectorLabels" -}}
app: osm-injector
app.kubernetes.io/name: osm-injector
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of osm-injector's objects: the common labels plus the component's.
*/}}
{{- define "osm.injector.labels" -}}
{{ include "osm.labels" . }}
app: osm-injector
app.kubernetes.io/name: osm-injector
{{- end }}

{{/*
Name of the cluster-scoped RBAC objects (ClusterRole, ClusterRoleBinding): one set per
control-plane namespace, so that two releases in two namespaces never collide.
*/}}
{{- define "osm.clusterName" -}}
{{- printf "osm-injector-%s" .Release.Namespace | trunc 253 -}}
{{- end }}

{{/*
The MutatingWebhookConfiguration, its webhook and the path osm-injector serves: fixed by
osm-injector (webhook.ConfigurationName, webhook.WebhookName, webhook.Path), which applies the
same object at run time.
*/}}
{{- define "osm.webhook.configName" -}}
osm-injector
{{- end }}
{{- define "osm.webhook.name" -}}
injector.openservicemesh.io
{{- end }}
{{- define "osm.webhook.path" -}}
/mutate-v1-pod
{{- end }}

{{/*
The webhook URL for osm.webhook.url: the base URL with the webhook path appended once, as
osm-injector's --webhook-url does.
*/}}
{{- define "osm.webhook.url" -}}
{{- $base := trimSuffix "/" .Values.osm.webhook.url -}}
{{- $path := include "osm.webhook.path" . -}}
{{- if hasSuffix $path $base -}}
{{- $base -}}
{{- else -}}
{{- printf "%s%s" $base $path -}}
{{- end -}}
{{- end }}

{{/*
The MeshConfig the injector follows. The contract fixes the name.
*/}}
{{- define "osm.meshConfigName" -}}
osm-mesh-config
{{- end }}

{{/*
The collector address: osm.tracing.address, or the chart's Jaeger in the release namespace.
*/}}
{{- define "osm.tracing.address" -}}
{{- default (printf "jaeger.%s.svc.cluster.local" .Release.Namespace) .Values.osm.tracing.address -}}
{{- end }}

{{/*
The injector's image reference.
*/}}
{{- define "osm.injector.image" -}}
{{- printf "%s:%s" .Values.osm.injector.image.repository (default .Chart.AppVersion .Values.osm.injector.image.tag) -}}
{{- end }}

{{/*
A list of ports as osm-injector's port list flags take it: 3306,6379. Values files give YAML
numbers, which Helm reads as floats: each is printed as an integer.
*/}}
{{- define "osm.portList" -}}
{{- $ports := list -}}
{{- range . -}}
{{- $ports = append $ports (int .) -}}
{{- end -}}
{{- join "," $ports -}}
{{- end }}

{{/*
Checks of values that values.schema.json cannot express, or that must hold even when schema
validation is skipped. Included by every template that depends on them.
*/}}
{{- define "osm.validate" -}}
{{- $provider := .Values.osm.certificateProvider -}}
{{- if not (has $provider (list "self" "cert-manager")) -}}
{{- fail (printf "osm.certificateProvider must be \"self\" or \"cert-manager\", not %q" (toString $provider)) -}}
{{- end -}}
{{- $policy := .Values.osm.webhook.failurePolicy -}}
{{- if not (has $policy (list "Fail" "Ignore")) -}}
{{- fail (printf "osm.webhook.failurePolicy must be \"Fail\" or \"Ignore\", not %q" (toString $policy)) -}}
{{- end -}}
{{- if eq $provider "cert-manager" -}}
{{- $cm := .Values.osm.certManager -}}
{{- if and $cm.issuerRef.name (not (has (default "Issuer" $cm.issuerRef.kind) (list "Issuer" "ClusterIssuer"))) -}}
{{- fail (printf "osm.certManager.issuerRef.kind must be \"Issuer\" or \"ClusterIssuer\", not %q" (toString $cm.issuerRef.kind)) -}}
{{- end -}}
{{- if not (has $cm.secretAccess (list "api" "volume")) -}}
{{- fail (printf "osm.certManager.secretAccess must be \"api\" or \"volume\", not %q" (toString $cm.secretAccess)) -}}
{{- end -}}
{{- end -}}
{{- with .Values.osm.webhook.url -}}
{{- if not (hasPrefix "https://" .) -}}
{{- fail (printf "osm.webhook.url must be an https:// URL (the API server only calls webhooks over TLS), not %q" .) -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/*
certificateProvider=cert-manager: the names of the chart's cert-manager objects. The serving
Certificate is named as osm-injector's --cert-manager-certificate default, and its Secret differs
from the self-signed provider's (osm-injector-tls), so that a switch between providers never
has two issuers writing one Secret.
*/}}
{{- define "osm.certManager.enabled" -}}
{{- if eq .Values.osm.certificateProvider "cert-manager" }}true{{ end -}}
{{- end }}
{{- define "osm.certManager.certificateName" -}}
osm-injector
{{- end }}
{{- define "osm.certManager.secretName" -}}
osm-injector-cert-manager-tls
{{- end }}
{{- define "osm.certManager.caName" -}}
osm-injector-ca
{{- end }}
{{- define "osm.certManager.selfSignedName" -}}
osm-injector-selfsigned
{{- end }}
{{- define "osm.certManager.mountPath" -}}
/etc/osm-injector/certs
{{- end }}

{{/*
The issuerRef of the serving Certificate: osm.certManager.issuerRef when it names an issuer,
else the chart's own CA Issuer.
*/}}
{{- define "osm.certManager.issuerRef" -}}
{{- $ref := .Values.osm.certManager.issuerRef -}}
{{- if $ref.name -}}
name: {{ $ref.name }}
kind: {{ default "Issuer" $ref.kind }}
group: {{ default "cert-manager.io" $ref.group }}
{{- else -}}
name: {{ include "osm.certManager.caName" . }}
kind: Issuer
group: cert-manager.io
{{- end -}}
{{- end }}

package proxy

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// EnvoyContainerName is the sidecar container the injector adds.
const EnvoyContainerName = inject.EnvoyContainerName

// CheckAdminReachable says why the admin interface of pod's Envoy cannot be reached, or
// returns nil: the pod must carry the envoy container and it must be running.
func CheckAdminReachable(pod *corev1.Pod) error {
	where := pod.Namespace + "/" + pod.Name
	if inject.Sidecar(&pod.Spec) == nil {
		return fmt.Errorf("pod %s has no %q container: it is not injected (label its namespace with "+
			"'osm namespace add %s' and re-create the pod)", where, EnvoyContainerName, pod.Namespace)
	}
	if pod.DeletionTimestamp != nil {
		return fmt.Errorf("pod %s is terminating; pick a running pod (kubectl get pods -n %s)", where, pod.Namespace)
	}
	if pod.Status.Phase != corev1.PodRunning {
		return fmt.Errorf("pod %s is %s, not Running: Envoy's admin interface is only reachable in a "+
			"running pod (kubectl describe pod -n %s %s); 'osm proxy bootstrap' reads its bootstrap "+
			"without Envoy", where, phaseOf(pod), pod.Namespace, pod.Name)
	}
	// A native sidecar's status is among the init containers'.
	if st := inject.SidecarStatus(pod); st != nil && st.State.Running == nil {
		return fmt.Errorf("the %q container of pod %s is not running (%s); see kubectl logs -n %s %s -c %s",
			EnvoyContainerName, where, stateOf(st.State), pod.Namespace, pod.Name, EnvoyContainerName)
	}
	return nil
}

func phaseOf(pod *corev1.Pod) string {
	if pod.Status.Phase == "" {
		return "Pending"
	}
	return string(pod.Status.Phase)
}

func stateOf(s corev1.ContainerState) string {
	switch {
	case s.Waiting != nil && s.Waiting.Reason != "":
		return "waiting: " + s.Waiting.Reason
	case s.Terminated != nil:
		return fmt.Sprintf("terminated: %s, exit code %d", s.Terminated.Reason, s.Terminated.ExitCode)
	default:
		return "waiting"
	}
}

// BootstrapConfigMapName returns the name of the bootstrap ConfigMap pod mounts at
// /etc/envoy, or an error that says the pod is not injected.
func BootstrapConfigMapName(pod *corev1.Pod) (string, error) {
	byVolume := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		if v.ConfigMap != nil && strings.HasPrefix(v.ConfigMap.Name, bootstrap.ConfigMapPrefix) {
			byVolume[v.Name] = v.ConfigMap.Name
		}
	}
	if c := inject.Sidecar(&pod.Spec); c != nil {
		for _, m := range c.VolumeMounts {
			if name, ok := byVolume[m.Name]; ok && strings.TrimSuffix(m.MountPath, "/") == bootstrap.EnvoyBootstrapDir {
				return name, nil
			}
		}
	}
	// A pod whose envoy container mounts the bootstrap elsewhere still names one ConfigMap.
	if len(byVolume) == 1 {
		for _, name := range byVolume {
			return name, nil
		}
	}
	return "", fmt.Errorf("pod %s/%s is not injected: it mounts no %s* ConfigMap at %s (label its "+
		"namespace with 'osm namespace add %s' and re-create the pod)",
		pod.Namespace, pod.Name, bootstrap.ConfigMapPrefix, bootstrap.EnvoyBootstrapDir, pod.Namespace)
}

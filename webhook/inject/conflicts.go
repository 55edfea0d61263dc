package inject

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// SourcePodSpec is the Source of a conflict's *bootstrap.FieldError: a field of the pod's
// spec, not an annotation.
const SourcePodSpec = "pod"

// proxyPorts are the ports Envoy listens on in the pod's network namespace, and what each is.
// An application container that listens on one of them would fail to bind (or Envoy would),
// and the redirect treats them specially: 15001 and 15003 are where connections are
// redirected to, 15021, 15090 and 15000 are never redirected.
var proxyPorts = []struct {
	port uint16
	what string
}{
	{bootstrap.AdminPort, "the sidecar's admin port"},
	{bootstrap.OutboundPort, "the sidecar's outbound capture port"},
	{bootstrap.InboundPort, "the sidecar's inbound capture port"},
	{bootstrap.HealthPort, "the sidecar's health port"},
	{bootstrap.PrometheusPort, "the sidecar's Prometheus port"},
}

// optOut is the fix every conflict message ends with besides the specific one.
const optOut = "; or keep the pod out of the mesh with the annotation " + bootstrap.InjectionAnnotation + ": disabled"

// Conflicts returns what in pod's spec the sidecar cannot coexist with, each as a
// *bootstrap.FieldError naming the field, the value and the fix (joined), or nil. The
// admission webhook denies such a pod, whatever the failure policy: injected anyway, it would
// run with a mesh that silently does not work for it.
//
//   - A container (regular, init or native sidecar) or a volume named like one the injector
//     adds: injection would have to replace it, and un-injection would delete it (a volume
//     left over from a copied injected pod, see leftoverVolume, is replaced). Istio's
//     injector likewise owns the names istio-proxy and istio-init.
//   - A container that runs as the proxy's uid, 1500, by its own securityContext or the pod's:
//     the redirect lets that uid's connections out unredirected (or Envoy's own would loop), so
//     its traffic would bypass the sidecar, untraced and without a word. Istio has the same
//     exemption (its proxy uid, 1337) and documents the same restriction. A uid set only in the
//     image's USER is not visible at admission; docs/annotations.md says so.
//   - A container port equal to one of the proxy's ports (proxyPorts).
//
// Only a pod that is not injected yet is checked: in an injected pod the names are ours.
func Conflicts(pod *corev1.Pod) error {
	if pod == nil || IsInjected(pod) {
		return nil
	}
	var errs []error
	podUID := int64(-1)
	if sc := pod.Spec.SecurityContext; sc != nil && sc.RunAsUser != nil {
		podUID = *sc.RunAsUser
	}
	for _, list := range []struct {
		path string
		cs   []corev1.Container
	}{{"spec.initContainers", pod.Spec.InitContainers}, {"spec.containers", pod.Spec.Containers}} {
		for i := range list.cs {
			errs = containerConflicts(errs, fmt.Sprintf("%s[%d]", list.path, i), &list.cs[i], podUID)
		}
	}
	for i := range pod.Spec.Volumes {
		if v := &pod.Spec.Volumes[i]; isOurVolumeName(v.Name) && !leftoverVolume(&pod.Spec, v) {
			errs = append(errs, conflict(fmt.Sprintf("spec.volumes[%d].name", i), v.Name,
				"is the name of a volume the injector adds for the sidecar: rename the volume"))
		}
	}
	return errors.Join(errs...)
}

// isOurVolumeName reports the names of the volumes injection adds.
func isOurVolumeName(name string) bool { return name == BootstrapVolumeName || name == RunVolumeName }

// leftoverVolume reports a volume of ours left in a pod spec copied from an injected pod
// without its containers (kubectl get pod -o yaml, edited): one of our bootstrap ConfigMaps,
// or an emptyDir by the run volume's name, that none of the pod's containers mounts.
// Injection replaces it; anything else by those names is the user's, and a conflict.
func leftoverVolume(spec *corev1.PodSpec, v *corev1.Volume) bool {
	switch v.Name {
	case BootstrapVolumeName:
		if v.ConfigMap == nil || !strings.HasPrefix(v.ConfigMap.Name, bootstrap.ConfigMapPrefix) {
			return false
		}
	case RunVolumeName:
		if v.EmptyDir == nil {
			return false
		}
	default:
		return false
	}
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			for _, m := range cs[i].VolumeMounts {
				if m.Name == v.Name {
					return false
				}
			}
		}
	}
	return true
}

// containerConflicts appends the conflicts of container c at path; podUID is the pod's
// runAsUser, or -1.
func containerConflicts(errs []error, path string, c *corev1.Container, podUID int64) []error {
	if c.Name == EnvoyContainerName || c.Name == InitContainerName {
		errs = append(errs, conflict(path+".name", c.Name,
			"is the name of a container the injector adds (the sidecar "+EnvoyContainerName+" and "+InitContainerName+
				", which installs the redirect): rename the container"))
	}
	switch {
	case c.SecurityContext != nil && c.SecurityContext.RunAsUser != nil:
		if *c.SecurityContext.RunAsUser == bootstrap.EnvoyUID {
			errs = append(errs, uidConflict(path+".securityContext.runAsUser", c.Name))
		}
	case podUID == bootstrap.EnvoyUID:
		errs = append(errs, uidConflict("spec.securityContext.runAsUser", c.Name))
	}
	for j, p := range c.Ports {
		for _, pp := range proxyPorts {
			if p.ContainerPort == int32(pp.port) {
				errs = append(errs, conflict(fmt.Sprintf("%s.ports[%d].containerPort", path, j), strconv.Itoa(int(p.ContainerPort)),
					fmt.Sprintf("is %s (the sidecar listens on %s): container %q must use another port",
						pp.what, proxyPortList(), c.Name)))
			}
		}
	}
	return errs
}

// proxyPortList is proxyPorts' numbers in words: "15000, 15001, 15003, 15021 and 15090".
func proxyPortList() string {
	ports := make([]string, len(proxyPorts))
	for i, pp := range proxyPorts {
		ports[i] = strconv.Itoa(int(pp.port))
	}
	return strings.Join(ports[:len(ports)-1], ", ") + " and " + ports[len(ports)-1]
}

// uidConflict is the conflict of container name running as the proxy's uid, set at field.
func uidConflict(field, name string) error {
	return conflict(field, strconv.Itoa(bootstrap.EnvoyUID), fmt.Sprintf(
		"container %q would run as the sidecar's uid, whose connections the redirect lets out without the sidecar: "+
			"its traffic would bypass Envoy untraced; run it as another uid", name))
}

// conflict is a *bootstrap.FieldError of the pod's spec.
func conflict(field, value, accepted string) error {
	return &bootstrap.FieldError{Source: SourcePodSpec, Field: field, Value: value, Accepted: accepted + optOut}
}

package webhook

import (
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// requestLogger carries what identifies one admission request.
func requestLogger(base logr.Logger, req admission.Request) logr.Logger {
	return base.WithValues("uid", string(req.UID), "namespace", req.Namespace, "operation", string(req.Operation))
}

// podLogger adds the pod's name, or its generateName with a '*' when the name is not known yet.
func podLogger(log logr.Logger, pod *corev1.Pod) logr.Logger {
	name := pod.Name
	if name == "" && pod.GenerateName != "" {
		name = pod.GenerateName + "*"
	}
	return log.WithValues("pod", name)
}

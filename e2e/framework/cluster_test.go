package framework

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestSmokeAPIServerOnly starts the smallest cluster and checks the admin's clients and
// kubectl reach it.
func TestSmokeAPIServerOnly(t *testing.T) {
	c := Start(t, Options{})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := c.Clientset.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{}); err != nil {
		t.Fatalf("getting the default namespace: %v", err)
	}
	out, _, err := c.Kubectl("version", "-o", "yaml")
	if err != nil {
		t.Fatalf("kubectl version: %v", err)
	}
	if !strings.Contains(out, "gitVersion: "+KubernetesVersion) {
		t.Errorf("kubectl version does not name %s:\n%s", KubernetesVersion, out)
	}
	cl, err := c.ControllerClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cl == nil {
		t.Fatal("nil controller-runtime client")
	}
}

// TestSmokeControllers checks that the controllers make the default ServiceAccount.
func TestSmokeControllers(t *testing.T) {
	c := Start(t, Options{Controllers: true})
	if c.NodeName != "" {
		t.Errorf("NodeName = %q without kwok", c.NodeName)
	}
}

package framework

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// user is an identity of the token-auth file.
type user struct {
	name   string
	token  string
	groups string
}

func newUser(name, groups string) (user, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return user{}, fmt.Errorf("when making a token for %s: %w", name, err)
	}
	return user{name: name, token: hex.EncodeToString(b), groups: groups}, nil
}

// tokenLine is the user's line of kube-apiserver's --token-auth-file.
func (u user) tokenLine() string {
	return fmt.Sprintf("%s,%s,%s,%q\n", u.token, u.name, u.name, u.groups)
}

// writeKubeconfig writes a kubeconfig for the user, trusting the cluster's CA.
func writeKubeconfig(path, server string, caPEM []byte, u user) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["osm-e2e"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[u.name] = &clientcmdapi.AuthInfo{Token: u.token}
	cfg.Contexts["osm-e2e"] = &clientcmdapi.Context{Cluster: "osm-e2e", AuthInfo: u.name}
	cfg.CurrentContext = "osm-e2e"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("when writing kubeconfig %s: %w", path, err)
	}
	return nil
}

// restConfig is the client configuration of the user.
func restConfig(server string, caPEM []byte, u user) *rest.Config {
	return &rest.Config{
		Host:            server,
		BearerToken:     u.token,
		TLSClientConfig: rest.TLSClientConfig{CAData: caPEM},
		// Tests create objects in bursts; the default 5 QPS would slow them down.
		QPS:   200,
		Burst: 400,
	}
}

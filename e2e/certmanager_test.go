package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/cmd/osm-injector/app"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/manifests"
	"github.com/osm-tracing/osm-tracing/webhook"
	"github.com/osm-tracing/osm-tracing/webhook/certs"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// certManagerVersion is the cert-manager whose controllers hack/testbin.sh certmanager builds
// into .cache/testbin/certmanager-<version>/ (hack/certmanager-launcher/go.mod pins it).
const certManagerVersion = "v1.21.2"

// Names of the chart's cert-manager mode (templates/certmanager-*.yaml).
const (
	cmNamespace   = "osm-system"
	cmCertificate = "osm-injector"
	cmSecret      = "osm-injector-cert-manager-tls"
	cmWorkloads   = "cm-workloads"
)

// TestCertManagerProvider installs the chart with osm.certificateProvider=cert-manager against
// a real API server on which the real cert-manager controllers run (cert-manager v1.21.2's own
// code, started by the test-only hack/certmanager-launcher), and osm-injector runs in this
// process in cert-manager mode, serving the Certificate's Secret. It checks, in order:
//
//  1. cert-manager issues the chart's CA chain and serving certificate, its cainjector writes
//     the webhook's caBundle (osm-injector does not), and a pod of a labelled namespace is
//     injected;
//  2. a renewal (triggered as `cmctl renew` does) is served without a restart while
//     admissions keep succeeding: not one fails, and the new certificate is served;
//  3. with the Certificate's Secret deleted, /readyz fails (the certificate check) and
//     admissions still succeed on the last certificate; once cert-manager issues the Secret
//     again, the injector is ready;
//  4. `helm upgrade` switches to the self-signed provider and back: each time the webhook
//     configuration's annotation and caBundle follow, the injector of the old mode does not
//     fight the new owner of the caBundle (from self to cert-manager it stays trusted, as the
//     cainjector merges its CA into the bundle), and the injector of the new mode injects.
func TestCertManagerProvider(t *testing.T) {
	launcher, crds := certManagerFiles(t)
	setLoggerOnce.Do(func() {
		ctrl.SetLogger(zap.New(zap.WriteTo(injectorLogs), zap.UseDevMode(true)))
	})
	t.Cleanup(func() {
		if t.Failed() || os.Getenv(envInjectorLogs) != "" {
			t.Logf("last injector logs:\n%s", injectorLogs.Tail(20000))
		}
	})
	c := framework.Start(t, framework.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cl := cmKubeClient(t, c)

	installMeshConfigCRD(t, c)
	cmInstallCRDs(t, c, crds)
	cm := cmStart(t, c, launcher)

	ports := make([]int, 2)
	for i := range ports {
		p, err := framework.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	url := "https://127.0.0.1:" + strconv.Itoa(ports[0])
	rel := newCMRelease(t, c, url)
	rel.install(ctx, app.CertProviderCertManager)
	createNamespace(ctx, t, c, cmWorkloads, map[string]string{bootstrap.InjectionLabel: "enabled"})
	cmDefaultServiceAccount(ctx, t, c, cmWorkloads)

	// 1. Issued, injected by the cainjector, served.
	cmWaitCertificateReady(ctx, t, cl)
	cmWaitBundleHas(ctx, t, cl, cmSecretCA(ctx, t, c, cmSecret), "cert-manager's CA")
	in := startModeInjector(t, c, ports, app.CertProviderCertManager)
	in.waitReady(ctx, c, cmWorkloads)
	cmCheckCAInjectorOwnsBundle(ctx, t, cl)
	cmCheckRealPodInjected(ctx, t, c)
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	if got, want := cmServedSerial(ctx, t, cl, addr), cmSecretSerial(ctx, t, c); got != want {
		t.Fatalf("the injector serves serial %s, the Secret holds %s", got, want)
	}

	// 2. Renewal under load.
	t.Run("renewal", func(t *testing.T) { cmRenewal(ctx, t, c, cl, addr) })

	// 3. Secret deleted: not ready until re-issued.
	t.Run("secret deleted", func(t *testing.T) { cmSecretDeleted(ctx, t, c, cl, cm, in) })

	// osm tracing check reads the Certificate (cert-manager's Go types) and its Secret.
	t.Run("osm tracing check", func(t *testing.T) { cmTracingCheck(t, c) })

	// 4. helm upgrade to self and back.
	t.Run("switch to self and back", func(t *testing.T) {
		cmSwitch(ctx, t, c, cl, rel, in, ports, addr)
	})
}

// certManagerFiles are the launcher and the CRD folder that hack/testbin.sh certmanager
// builds; a missing one fails the test (or skips it with OSM_E2E_SKIP=1), as the framework
// does for its binaries.
func certManagerFiles(t *testing.T) (launcher, crds string) {
	t.Helper()
	bins, err := framework.FindBinaries()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(bins.Dir, "certmanager-"+certManagerVersion)
	launcher = filepath.Join(dir, "certmanager-launcher")
	crds = filepath.Join(dir, "crds")
	for _, p := range []string{launcher, filepath.Join(crds, "cert-manager.io_certificates.yaml")} {
		if _, err := os.Stat(p); err != nil {
			msg := fmt.Sprintf("%s is missing: run `make testbin` (or hack/testbin.sh certmanager), or set %s=1 to skip e2e tests",
				p, framework.EnvSkip)
			if v := os.Getenv(framework.EnvSkip); v == "1" || v == "true" {
				t.Skip(msg)
			}
			t.Fatal(msg)
		}
	}
	return launcher, crds
}

func cmKubeClient(t *testing.T, c *framework.Cluster) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, cmapi.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	cl, err := c.ControllerClient(scheme)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// cmInstallCRDs applies cert-manager's CRDs server-side (the Issuer CRDs are too large for the
// last-applied annotation of a client-side apply) and waits until they are served.
func cmInstallCRDs(t *testing.T, c *framework.Cluster, dir string) {
	t.Helper()
	if _, stderr, err := c.Kubectl("apply", "--server-side", "-f", dir); err != nil {
		t.Fatalf("installing cert-manager's CRDs: %v\n%s", err, stderr)
	}
	if _, stderr, err := c.Kubectl("wait", "--for=condition=Established", "--timeout=60s",
		"crd/certificates.cert-manager.io", "crd/certificaterequests.cert-manager.io",
		"crd/issuers.cert-manager.io", "crd/clusterissuers.cert-manager.io"); err != nil {
		t.Fatalf("waiting for cert-manager's CRDs: %v\n%s", err, stderr)
	}
}

// cmProcess is the launcher, a child process stopped when the test ends.
type cmProcess struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// cmStart runs cert-manager's controllers and cainjector (the launcher) against c.
func cmStart(t *testing.T, c *framework.Cluster, launcher string) *cmProcess {
	t.Helper()
	logPath := filepath.Join(c.Dir, "certmanager-launcher.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(launcher, "--kubeconfig="+c.KubeconfigPath, "--v=2")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", launcher, err)
	}
	p := &cmProcess{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGCONT)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() || os.Getenv(envInjectorLogs) != "" {
			t.Logf("last lines of %s:\n%s", logPath, framework.TailFile(logPath, 60))
		}
	})
	return p
}

// pause and resume stop and continue cert-manager (SIGSTOP, SIGCONT), so that the test sees
// the state between a change and cert-manager's answer to it.
func (p *cmProcess) pause(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("pausing cert-manager: %v", err)
	}
}

func (p *cmProcess) resume(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGCONT); err != nil {
		t.Fatalf("resuming cert-manager: %v", err)
	}
}

// cmRelease installs and upgrades the embedded chart with the Helm SDK, as `osm install` and
// `helm upgrade` do, with the webhook pointing at the injector in this process.
type cmRelease struct {
	t   *testing.T
	cfg *action.Configuration
	ch  *chart.Chart
	url string
}

func newCMRelease(t *testing.T, c *framework.Cluster, url string) *cmRelease {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	kubeconfig, ns := c.KubeconfigPath, cmNamespace
	flags.KubeConfig, flags.Namespace = &kubeconfig, &ns
	cfg := new(action.Configuration)
	if err := cfg.Init(flags, cmNamespace, "secret", func(format string, v ...any) { t.Logf("helm: "+format, v...) }); err != nil {
		t.Fatal(err)
	}
	ch, err := manifests.LoadChart()
	if err != nil {
		t.Fatal(err)
	}
	return &cmRelease{t: t, cfg: cfg, ch: ch, url: url}
}

// values: the provider, the webhook at the injector in this process, no in-cluster replica.
func (r *cmRelease) values(provider string) map[string]any {
	return map[string]any{"osm": map[string]any{
		"certificateProvider": provider,
		"webhook":             map[string]any{"url": r.url},
		"injector":            map[string]any{"replicas": 0},
	}}
}

func (r *cmRelease) install(ctx context.Context, provider string) {
	r.t.Helper()
	in := action.NewInstall(r.cfg)
	in.ReleaseName, in.Namespace, in.CreateNamespace = "osm", cmNamespace, true
	if _, err := in.RunWithContext(ctx, r.ch, r.values(provider)); err != nil {
		r.t.Fatalf("helm install with osm.certificateProvider=%s: %v", provider, err)
	}
}

func (r *cmRelease) upgrade(ctx context.Context, provider string) {
	r.t.Helper()
	up := action.NewUpgrade(r.cfg)
	up.Namespace = cmNamespace
	if _, err := up.RunWithContext(ctx, "osm", r.ch, r.values(provider)); err != nil {
		r.t.Fatalf("helm upgrade to osm.certificateProvider=%s: %v", provider, err)
	}
}

// startModeInjector runs osm-injector in this process on the given webhook and health ports,
// with the certificate provider mode, as the chart's Deployment would (leader election off:
// one replica). Its logs go to injectorLogs (see TestCertManagerProvider).
func startModeInjector(t *testing.T, c *framework.Cluster, ports []int, mode string) *injector {
	t.Helper()
	opts := app.DefaultOptions()
	opts.RESTConfig = c.RESTConfig
	opts.Namespace = cmNamespace
	opts.WebhookHost = "127.0.0.1"
	opts.WebhookPort = ports[0]
	opts.WebhookURL = "https://127.0.0.1:" + strconv.Itoa(ports[0])
	opts.MetricsBindAddress = "0"
	opts.HealthProbeBindAddress = "127.0.0.1:" + strconv.Itoa(ports[1])
	opts.LeaderElect = false
	opts.Logger = ctrl.Log.WithName("osm-injector").WithValues("certificateProvider", mode)
	opts.CertProviderKind = mode
	if mode == app.CertProviderCertManager {
		// As the chart passes it (osm.certManager.secretAccess=api).
		opts.CertSecretName = cmSecret
	}
	in := &injector{t: t, opts: opts, health: opts.HealthProbeBindAddress}
	in.start()
	t.Cleanup(in.stop)
	return in
}

// cmDefaultServiceAccount creates the namespace's default ServiceAccount, which pods need to
// be admitted (no kube-controller-manager runs here to create it).
func cmDefaultServiceAccount(ctx context.Context, t *testing.T, c *framework.Cluster, ns string) {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if _, err := c.Clientset.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil &&
		!apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

func cmGetCertificate(ctx context.Context, cl client.Client) (*cmapi.Certificate, error) {
	crt := &cmapi.Certificate{}
	err := cl.Get(ctx, client.ObjectKey{Namespace: cmNamespace, Name: cmCertificate}, crt)
	return crt, err
}

func cmCondition(crt *cmapi.Certificate, typ cmapi.CertificateConditionType) *cmapi.CertificateCondition {
	for i := range crt.Status.Conditions {
		if crt.Status.Conditions[i].Type == typ {
			return &crt.Status.Conditions[i]
		}
	}
	return nil
}

func cmWaitCertificateReady(ctx context.Context, t *testing.T, cl client.Client) {
	t.Helper()
	framework.Eventually(ctx, t, "Certificate "+cmCertificate+" Ready", func() error {
		crt, err := cmGetCertificate(ctx, cl)
		if err != nil {
			return err
		}
		if cond := cmCondition(crt, cmapi.CertificateConditionReady); cond == nil || cond.Status != cmmeta.ConditionTrue {
			return fmt.Errorf("Ready condition %+v", cond)
		}
		return nil
	})
}

// cmSecretCA is ca.crt of a cert-manager Secret of the control-plane namespace.
func cmSecretCA(ctx context.Context, t *testing.T, c *framework.Cluster, name string) []byte {
	t.Helper()
	var ca []byte
	framework.Eventually(ctx, t, "ca.crt of Secret "+name, func() error {
		s, err := c.Clientset.CoreV1().Secrets(cmNamespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if ca = s.Data[certs.KeyCABundle]; len(ca) == 0 {
			return errors.New("no ca.crt yet")
		}
		return nil
	})
	return ca
}

// cmSecretSerial is the serial of the serving certificate in the Certificate's Secret.
func cmSecretSerial(ctx context.Context, t *testing.T, c *framework.Cluster) string {
	t.Helper()
	s, err := c.Clientset.CoreV1().Secrets(cmNamespace).Get(ctx, cmSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cmSerialOf(t, s.Data[certs.KeyServingCert])
}

func cmSerialOf(t *testing.T, certPEM []byte) string {
	t.Helper()
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatalf("no PEM certificate in %q", certPEM)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert.SerialNumber.String()
}

func cmWebhookConfig(ctx context.Context, cl client.Client) (*admissionregistrationv1.MutatingWebhookConfiguration, []byte, error) {
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{}
	if err := cl.Get(ctx, client.ObjectKey{Name: webhook.ConfigurationName}, mwc); err != nil {
		return nil, nil, err
	}
	for _, wh := range mwc.Webhooks {
		if wh.Name == webhook.WebhookName {
			return mwc, wh.ClientConfig.CABundle, nil
		}
	}
	return mwc, nil, fmt.Errorf("no webhook %s in %s", webhook.WebhookName, mwc.Name)
}

// cmWaitBundleIs waits until the webhook's caBundle is exactly want (the self-signed
// provider writes the whole bundle).
func cmWaitBundleIs(ctx context.Context, t *testing.T, cl client.Client, want []byte, what string) {
	t.Helper()
	framework.Eventually(ctx, t, "the webhook's caBundle to be "+what, func() error {
		_, got, err := cmWebhookConfig(ctx, cl)
		if err != nil {
			return err
		}
		if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
			return fmt.Errorf("caBundle is %d bytes, not %s", len(got), what)
		}
		return nil
	})
}

// cmWaitBundleHas waits until the webhook's caBundle holds every certificate of want.
// cert-manager's cainjector merges a CA into the bundle it finds (feature CAInjectorMerging,
// on by default), so after a switch from the self-signed provider the bundle holds both CAs.
func cmWaitBundleHas(ctx context.Context, t *testing.T, cl client.Client, want []byte, what string) {
	t.Helper()
	framework.Eventually(ctx, t, "the webhook's caBundle to hold "+what, func() error {
		_, got, err := cmWebhookConfig(ctx, cl)
		if err != nil {
			return err
		}
		return cmBundleHolds(got, want)
	})
}

// cmBundleHolds reports which certificate of want bundle lacks, or nil.
func cmBundleHolds(bundle, want []byte) error {
	have := map[string]bool{}
	for _, der := range cmDERs(bundle) {
		have[string(der)] = true
	}
	wanted := cmDERs(want)
	if len(wanted) == 0 {
		return errors.New("no certificate to look for")
	}
	for _, der := range wanted {
		if !have[string(der)] {
			return fmt.Errorf("the caBundle (%d certificates) lacks a wanted CA", len(have))
		}
	}
	return nil
}

func cmDERs(data []byte) [][]byte {
	var out [][]byte
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return out
		}
		if block.Type == "CERTIFICATE" {
			out = append(out, block.Bytes)
		}
	}
}

// cmCheckCAInjectorOwnsBundle: the managed fields show that cert-manager's cainjector wrote
// the caBundle, and the injector applied the inject-ca-from annotation.
func cmCheckCAInjectorOwnsBundle(ctx context.Context, t *testing.T, cl client.Client) {
	t.Helper()
	framework.Eventually(ctx, t, "the cainjector to own caBundle and osm-injector the annotation", func() error {
		mwc, _, err := cmWebhookConfig(ctx, cl)
		if err != nil {
			return err
		}
		want := cmNamespace + "/" + cmCertificate
		if got := mwc.Annotations[webhook.InjectCAFromAnnotation]; got != want {
			return fmt.Errorf("annotation %s = %q, want %q", webhook.InjectCAFromAnnotation, got, want)
		}
		var cainjector, injectorAnnotation bool
		for _, mf := range mwc.ManagedFields {
			if mf.FieldsV1 == nil {
				continue
			}
			raw := mf.FieldsV1.GetRawString()
			if strings.Contains(mf.Manager, "cainjector") && strings.Contains(raw, `"f:caBundle"`) {
				cainjector = true
			}
			if mf.Manager == webhook.FieldOwner && strings.Contains(raw, webhook.InjectCAFromAnnotation) {
				injectorAnnotation = true
			}
		}
		if !cainjector {
			return fmt.Errorf("no cainjector field manager owns caBundle; managers: %v", cmManagers(mwc))
		}
		if !injectorAnnotation {
			return fmt.Errorf("osm-injector does not apply the %s annotation; managers: %v", webhook.InjectCAFromAnnotation, cmManagers(mwc))
		}
		return nil
	})
}

func cmManagers(mwc *admissionregistrationv1.MutatingWebhookConfiguration) []string {
	var out []string
	for _, mf := range mwc.ManagedFields {
		out = append(out, mf.Manager+"/"+string(mf.Operation)+": "+mf.FieldsV1.GetRawString())
	}
	return out
}

// cmCheckRealPodInjected creates a pod (not a dry run) in the labelled namespace.
func cmCheckRealPodInjected(ctx context.Context, t *testing.T, c *framework.Cluster) {
	t.Helper()
	got, err := c.Clientset.CoreV1().Pods(cmWorkloads).Create(ctx, testPod("app-", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a pod in %s: %v", cmWorkloads, err)
	}
	if inject.Sidecar(&got.Spec) == nil {
		t.Fatalf("pod %s/%s was not injected: containers %v", cmWorkloads, got.Name, got.Spec.Containers)
	}
}

// cmAdmit sends one dry-run pod through the API server: nil when the webhook injected it.
// The webhook's failurePolicy is Ignore, so a failed call would admit the pod unchanged:
// the envoy container is the proof that the call succeeded.
func cmAdmit(ctx context.Context, c *framework.Cluster) error {
	got, err := c.Clientset.CoreV1().Pods(cmWorkloads).Create(ctx, testPod("probe-", nil),
		metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		return err
	}
	if inject.Sidecar(&got.Spec) == nil {
		return errors.New("admitted without the envoy container: the webhook call failed")
	}
	return nil
}

// cmServedSerial is the serial the injector serves, verified against the live caBundle.
func cmServedSerial(ctx context.Context, t *testing.T, cl client.Client, addr string) string {
	t.Helper()
	_, bundle, err := cmWebhookConfig(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(bundle)
	serial, err := certsHandshake(ctx, addr, "127.0.0.1", pool)
	if err != nil {
		t.Fatalf("TLS handshake with the injector, trusting the webhook's caBundle: %v", err)
	}
	return serial
}

// cmLoad keeps admitting dry-run pods and handshaking with the injector (trusting the live
// caBundle) until stopped, and records what it saw.
type cmLoad struct {
	mu       sync.Mutex
	admitted int
	failures []string
	served   map[string]int // serial -> handshakes
	order    []string       // serials in the order first seen
	stop     context.CancelFunc
	done     chan struct{}
}

func cmStartLoad(ctx context.Context, c *framework.Cluster, cl client.Client, addr string) *cmLoad {
	lctx, cancel := context.WithCancel(ctx)
	l := &cmLoad{served: map[string]int{}, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for lctx.Err() == nil {
			err := cmAdmit(lctx, c)
			serial, herr := "", error(nil)
			if _, bundle, berr := cmWebhookConfig(lctx, cl); berr == nil {
				pool := x509.NewCertPool()
				pool.AppendCertsFromPEM(bundle)
				serial, herr = certsHandshake(lctx, addr, "127.0.0.1", pool)
			} else {
				herr = berr
			}
			if lctx.Err() != nil {
				return
			}
			l.mu.Lock()
			if err != nil {
				l.failures = append(l.failures, "admission: "+err.Error())
			} else {
				l.admitted++
			}
			if herr != nil {
				l.failures = append(l.failures, "handshake: "+herr.Error())
			} else {
				if l.served[serial] == 0 {
					l.order = append(l.order, serial)
				}
				l.served[serial]++
			}
			l.mu.Unlock()
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return l
}

func (l *cmLoad) finish() {
	l.stop()
	<-l.done
}

func (l *cmLoad) snapshot() (admitted int, failures []string, served map[string]int, order []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	served = make(map[string]int, len(l.served))
	for k, v := range l.served {
		served[k] = v
	}
	return l.admitted, append([]string(nil), l.failures...), served, append([]string(nil), l.order...)
}

// cmRenewal triggers a renewal the way `cmctl renew` does (the Certificate's Issuing
// condition set to True), under a steady stream of admissions and handshakes: none may fail,
// and the new certificate must be served without a restart.
func cmRenewal(ctx context.Context, t *testing.T, c *framework.Cluster, cl client.Client, addr string) {
	before := cmSecretSerial(ctx, t, c)
	load := cmStartLoad(ctx, c, cl, addr)
	defer load.finish()
	framework.Eventually(ctx, t, "the load to see the current certificate", func() error {
		if _, _, served, _ := load.snapshot(); served[before] < 20 {
			return fmt.Errorf("served %v", served)
		}
		return nil
	})

	crt, err := cmGetCertificate(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	issuing := cmapi.CertificateCondition{
		Type: cmapi.CertificateConditionIssuing, Status: cmmeta.ConditionTrue,
		Reason: "ManuallyTriggered", Message: "Certificate re-issuance manually triggered",
		LastTransitionTime: &now, ObservedGeneration: crt.Generation,
	}
	if cond := cmCondition(crt, cmapi.CertificateConditionIssuing); cond != nil {
		*cond = issuing
	} else {
		crt.Status.Conditions = append(crt.Status.Conditions, issuing)
	}
	if err := cl.Status().Update(ctx, crt); err != nil {
		t.Fatalf("setting the Issuing condition (cmctl renew): %v", err)
	}

	var after string
	framework.Eventually(ctx, t, "cert-manager to renew the certificate", func() error {
		if after = cmSecretSerial(ctx, t, c); after == before {
			return errors.New("the Secret still holds the old certificate")
		}
		return nil
	})
	framework.Eventually(ctx, t, "the injector to serve the renewed certificate under load", func() error {
		if _, _, served, _ := load.snapshot(); served[after] < 40 {
			return fmt.Errorf("renewed serial %s served %d times; served %v", after, served[after], served)
		}
		return nil
	})
	load.finish()
	admitted, failures, served, order := load.snapshot()
	t.Logf("renewal: %d admissions, serials served in order %v (%v)", admitted, order, served)
	if len(failures) > 0 {
		t.Errorf("%d admissions or handshakes failed across the renewal, first: %s", len(failures), failures[0])
	}
	if len(order) != 2 || order[0] != before || order[1] != after {
		t.Errorf("serials served %v, want %s then %s", order, before, after)
	}
	cmWaitCertificateReady(ctx, t, cl)
}

// cmSecretDeleted deletes the Certificate's Secret while cert-manager is paused, so that the
// state in between is observable for as long as the test wants: the injector is not ready
// (its certificate check fails) yet still answers admissions with the certificate it has;
// then cert-manager resumes, issues the Secret again, and the injector is ready.
func cmSecretDeleted(ctx context.Context, t *testing.T, c *framework.Cluster, cl client.Client, cm *cmProcess, in *injector) {
	if err := in.readyz(ctx); err != nil {
		t.Fatalf("not ready before the deletion: %v", err)
	}
	before := cmSecretSerial(ctx, t, c)
	cm.pause(t)
	resumed := false
	defer func() {
		if !resumed {
			cm.resume(t)
		}
	}()
	if err := c.Clientset.CoreV1().Secrets(cmNamespace).Delete(ctx, cmSecret, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting Secret %s: %v", cmSecret, err)
	}
	framework.Eventually(ctx, t, "/readyz to fail on the certificate check", func() error {
		err := in.readyz(ctx)
		switch {
		case err == nil:
			return errors.New("still ready")
		case !strings.Contains(err.Error(), "[-]certificate"):
			return fmt.Errorf("not ready, but not for the certificate: %w", err)
		}
		return nil
	})
	// It stays so while cert-manager is away, and meanwhile admissions succeed on the last
	// (still valid, still trusted) certificate.
	for range 10 {
		if in.readyz(ctx) == nil {
			t.Fatal("/readyz recovered while the Secret is missing")
		}
		if err := cmAdmit(ctx, c); err != nil {
			t.Errorf("an admission failed while the Secret is missing: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	cm.resume(t)
	resumed = true
	framework.Eventually(ctx, t, "cert-manager to issue the Secret again", func() error {
		_, err := c.Clientset.CoreV1().Secrets(cmNamespace).Get(ctx, cmSecret, metav1.GetOptions{})
		return err
	})
	framework.Eventually(ctx, t, "/readyz to recover", func() error { return in.readyz(ctx) })
	after := cmSecretSerial(ctx, t, c)
	if after == before {
		t.Errorf("the re-issued Secret holds the deleted one's serial %s", before)
	}
	framework.Eventually(ctx, t, "the re-issued certificate to be served", func() error {
		if got := cmServedSerial(ctx, t, cl, "127.0.0.1:"+strconv.Itoa(in.opts.WebhookPort)); got != after {
			return fmt.Errorf("serving %s, want %s", got, after)
		}
		return nil
	})
	if err := cmAdmit(ctx, c); err != nil {
		t.Errorf("after the re-issue: %v", err)
	}
}

// cmSwitch switches the release to the self-signed provider and back with helm upgrade. Each
// time the upgrade happens while the injector of the old mode still runs (as old pods do
// during a rollout), then the injector restarts in the new mode.
func cmSwitch(ctx context.Context, t *testing.T, c *framework.Cluster, cl client.Client, rel *cmRelease, in *injector,
	ports []int, addr string) {
	// cert-manager -> self.
	rel.upgrade(ctx, app.CertProviderSelf)
	if _, err := cmGetCertificate(ctx, cl); !apierrors.IsNotFound(err) {
		t.Errorf("Certificate %s after the upgrade to self: err %v, want NotFound", cmCertificate, err)
	}
	in.stop()
	self := startModeInjector(t, c, ports, app.CertProviderSelf)
	selfCA := cmSecretCA(ctx, t, c, certs.DefaultSecretName)
	cmWaitBundleIs(ctx, t, cl, selfCA, "the self-signed CA")
	framework.Eventually(ctx, t, "the inject-ca-from annotation to go", func() error {
		mwc, _, err := cmWebhookConfig(ctx, cl)
		if err != nil {
			return err
		}
		if v, ok := mwc.Annotations[webhook.InjectCAFromAnnotation]; ok {
			return fmt.Errorf("still annotated %s", v)
		}
		return nil
	})
	self.waitReady(ctx, c, cmWorkloads)
	cmCheckRealPodInjected(ctx, t, c)

	// self -> cert-manager, the self-signed injector still running: it must leave the
	// caBundle to the cainjector once the configuration is annotated.
	rel.upgrade(ctx, app.CertProviderCertManager)
	cmWaitCertificateReady(ctx, t, cl)
	cmCA := cmSecretCA(ctx, t, c, cmSecret)
	cmWaitBundleHas(ctx, t, cl, cmCA, "cert-manager's CA, with the self-signed injector still running")
	// The cainjector merged its CA into the self-signed one, so the injector of the old mode
	// is still trusted during the switch; it must not take the caBundle back.
	for range 10 {
		time.Sleep(300 * time.Millisecond)
		_, got, err := cmWebhookConfig(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		if err := cmBundleHolds(got, cmCA); err != nil {
			t.Fatalf("the self-signed injector took the caBundle back from the cainjector: %v", err)
		}
	}
	if err := cmAdmit(ctx, c); err != nil {
		t.Errorf("the self-signed injector, still running after the switch to cert-manager, is not trusted: %v", err)
	}
	self.stop()
	again := startModeInjector(t, c, ports, app.CertProviderCertManager)
	again.waitReady(ctx, c, cmWorkloads)
	cmCheckCAInjectorOwnsBundle(ctx, t, cl)
	cmCheckRealPodInjected(ctx, t, c)
	if got, want := cmServedSerial(ctx, t, cl, addr), cmSecretSerial(ctx, t, c); got != want {
		t.Errorf("after switching back, the injector serves serial %s, the Secret holds %s", got, want)
	}
}

// cmTracingCheck runs `osm tracing check` as a user would: the webhook steps must pass in
// cert-manager mode (the rest of the check, Jaeger and workloads, is other tests' business).
func cmTracingCheck(t *testing.T, c *framework.Cluster) {
	osm := cliRunner{t: t, bin: cliBuild(t), kubeconfig: c.KubeconfigPath, home: t.TempDir()}
	res := osm.run("", "tracing", "check", "--osm-namespace", cmNamespace, "-n", cmWorkloads, "--span-timeout", "1s")
	var certLine, hookLine string
	for line := range strings.SplitSeq(res.stdout, "\n") {
		switch {
		case strings.Contains(line, "webhook certificate (cert-manager)"):
			certLine = line
		case strings.Contains(line, "injector webhook:"):
			hookLine = line
		}
	}
	if !strings.HasPrefix(certLine, "[PASS]") || !strings.Contains(certLine, "Certificate "+cmNamespace+"/"+cmCertificate+" is Ready") ||
		!strings.Contains(certLine, "expires ") {
		t.Errorf("the Certificate step does not pass with its expiry: %q\n%s", certLine, res)
	}
	if !strings.HasPrefix(hookLine, "[PASS]") || !strings.Contains(hookLine, "the caBundle verifies the serving certificate") {
		t.Errorf("the webhook step does not pass in cert-manager mode: %q\n%s", hookLine, res)
	}
}

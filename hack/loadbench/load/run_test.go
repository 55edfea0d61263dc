package load

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fakeWebhook answers AdmissionReviews: it allows with a JSONPatch, except that every
// denyEvery-th request is denied and every failEvery-th gets HTTP 500 (0: never).
type fakeWebhook struct {
	t                    *testing.T
	denyEvery, failEvery int64
	served               atomic.Int64
	http2                atomic.Int64
	badRequests          atomic.Int64
}

func (f *fakeWebhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.served.Add(1)
	if r.ProtoMajor == 2 {
		f.http2.Add(1)
	}
	var review admissionv1.AdmissionReview
	if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil ||
		r.URL.Query().Get("timeout") == "" {
		f.badRequests.Add(1)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if f.failEvery > 0 && n%f.failEvery == 0 {
		http.Error(w, "internal", http.StatusInternalServerError)
		return
	}
	resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
	if f.denyEvery > 0 && n%f.denyEvery == 0 {
		resp.Allowed = false
		resp.Result = &metav1.Status{Message: "no"}
	} else {
		pt := admissionv1.PatchTypeJSONPatch
		resp.PatchType = &pt
		resp.Patch = []byte(`[{"op":"add","path":"/spec/containers/-","value":{"name":"envoy"}}]`)
	}
	review.Request, review.Response = nil, resp
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(&review)
}

// startWebhook serves f over HTTPS (HTTP/2 enabled) on 127.0.0.1 and writes its CA to a file.
func startWebhook(t *testing.T, f *fakeWebhook) (url, caFile string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(f)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "ca.crt")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL + "/mutate-v1-pod", caFile
}

func runJSON(t *testing.T, args ...string) (summary, int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(append(args, "-json"), &stdout, &stderr)
	var s summary
	if code != 2 {
		if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
			t.Fatalf("output is not JSON: %v\n%s\n%s", err, stdout.String(), stderr.String())
		}
	}
	return s, code, stderr.String()
}

func TestRunAllAllowed(t *testing.T) {
	f := &fakeWebhook{t: t}
	url, ca := startWebhook(t, f)
	s, code, stderr := runJSON(t, "-url", url, "-ca", ca, "-c", "4", "-n", "200")
	if code != 0 {
		t.Fatalf("exit %d: %s %+v", code, stderr, s)
	}
	if s.Requests != 200 || s.OK != 200 || s.Failures != 0 || f.served.Load() != 200 {
		t.Errorf("summary %+v, served %d", s, f.served.Load())
	}
	if f.http2.Load() != 200 || s.Protocol != "HTTP/2.0" {
		t.Errorf("%d of 200 requests over HTTP/2", f.http2.Load())
	}
	if f.badRequests.Load() != 0 {
		t.Errorf("%d malformed requests", f.badRequests.Load())
	}
	if s.LatencyMs.P50 <= 0 || s.LatencyMs.Max < s.LatencyMs.P99 || s.LatencyMs.P99 < s.LatencyMs.P50 || s.Throughput <= 0 {
		t.Errorf("implausible latencies %+v, throughput %v", s.LatencyMs, s.Throughput)
	}
}

func TestRunCountsFailures(t *testing.T) {
	f := &fakeWebhook{t: t, denyEvery: 5, failEvery: 7}
	url, ca := startWebhook(t, f)
	s, code, _ := runJSON(t, "-url", url, "-ca", ca, "-c", "1", "-n", "35", "-http1")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	// Of 35: 5 answered HTTP 500 (every 7th), 6 denied (every 5th but not the 35th).
	if s.Errors != 5 || s.NotAllowed != 6 || s.OK != 24 || s.Failures != 11 {
		t.Errorf("summary %+v", s)
	}
	if f.http2.Load() != 0 || s.Protocol != "HTTP/1.1" {
		t.Errorf("-http1 sent %d HTTP/2 requests; protocol %q", f.http2.Load(), s.Protocol)
	}
	if len(s.Samples) == 0 {
		t.Error("no failure samples")
	}
}

func TestRunStopsAfterDuration(t *testing.T) {
	url, ca := startWebhook(t, &fakeWebhook{t: t})
	start := time.Now()
	s, code, stderr := runJSON(t, "-url", url, "-ca", ca, "-c", "2", "-d", "300ms")
	if code != 0 || s.Requests == 0 {
		t.Fatalf("exit %d: %s %+v", code, stderr, s)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a 300ms run took %v", took)
	}
}

func TestRunRefusesBadUsage(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"a remote URL":            {[]string{"-url", "https://192.0.2.1/mutate", "-insecure"}, "not a loopback address"},
		"no URL":                  {[]string{"-insecure"}, "-url is required"},
		"no trust decision":       {[]string{"-url", "https://127.0.0.1:1/"}, "-ca FILE, or -insecure"},
		"an unbounded duration":   {[]string{"-url", "https://127.0.0.1:1/", "-insecure", "-d", "2h"}, "-d must be"},
		"zero workers":            {[]string{"-url", "https://127.0.0.1:1/", "-insecure", "-c", "0"}, "-c must be"},
		"a CA file that is empty": {[]string{"-url", "https://127.0.0.1:1/", "-ca", os.DevNull}, "no PEM certificate"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Main(tc.args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q, want 2 and %q", code, stderr.String(), tc.want)
			}
		})
	}
}

func TestRequestLooksLikeTheReplicaSetController(t *testing.T) {
	f, err := newRequestFactory("bookbuyer", true)
	if err != nil {
		t.Fatal(err)
	}
	body, uid, err := f.next()
	if err != nil {
		t.Fatal(err)
	}
	_, uid2, _ := f.next()
	if uid == uid2 || len(uid) != 36 {
		t.Errorf("UIDs %q %q", uid, uid2)
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		t.Fatal(err)
	}
	req := review.Request
	if review.APIVersion != "admission.k8s.io/v1" || req.UID != uid || req.Operation != admissionv1.Create ||
		req.Kind.Kind != "Pod" || req.Resource.Resource != "pods" || req.Namespace != "bookbuyer" ||
		req.DryRun == nil || !*req.DryRun || req.Name != "" {
		t.Errorf("request %+v", req)
	}
	var pod corev1.Pod
	if err := json.Unmarshal(req.Object.Raw, &pod); err != nil {
		t.Fatal(err)
	}
	owner := metav1.GetControllerOf(&pod)
	if owner == nil || owner.Kind != "ReplicaSet" || owner.Name != "bookbuyer-"+podTemplateHash {
		t.Errorf("owner %+v", owner)
	}
	if pod.GenerateName != owner.Name+"-" || pod.Labels["pod-template-hash"] != podTemplateHash ||
		pod.Labels["app"] != "bookbuyer" || pod.Spec.ServiceAccountName != "bookbuyer" || len(pod.Spec.Containers) != 1 {
		t.Errorf("pod %+v", pod.ObjectMeta)
	}
}

func TestCheckResponse(t *testing.T) {
	ok := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u","allowed":true,` +
		`"patchType":"JSONPatch","patch":"W3sib3AiOiJhZGQiLCJwYXRoIjoiL2EiLCJ2YWx1ZSI6MX1d"}}`
	cases := map[string]struct {
		status int
		body   string
		want   outcome
	}{
		"allowed with a patch":     {200, ok, outcomeOK},
		"another request's answer": {200, strings.Replace(ok, `"u"`, `"v"`, 1), outcomeError},
		"HTTP 500":                 {500, "boom", outcomeError},
		"not JSON":                 {200, "<html>", outcomeError},
		"no response":              {200, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, outcomeError},
		"the wrong version":        {200, strings.Replace(ok, "admission.k8s.io/v1", "admission.k8s.io/v1beta1", 1), outcomeError},
		"denied": {200, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",` +
			`"response":{"uid":"u","allowed":false,"status":{"message":"bad annotation"}}}`, outcomeDenied},
		"allowed without a patch": {200, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",` +
			`"response":{"uid":"u","allowed":true}}`, outcomeNoPatch},
		"an empty patch": {200, strings.Replace(ok, "W3sib3AiOiJhZGQiLCJwYXRoIjoiL2EiLCJ2YWx1ZSI6MX1d", "W10=", 1), outcomeNoPatch},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := checkResponse(tc.status, []byte(tc.body), "u")
			if got != tc.want {
				t.Errorf("checkResponse = %v (%v), want %v", got, err, tc.want)
			}
			if (got == outcomeOK) != (err == nil) {
				t.Errorf("error %v with outcome %v", err, got)
			}
		})
	}
}

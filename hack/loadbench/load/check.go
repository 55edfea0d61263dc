package load

import (
	"encoding/json"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/types"
)

// outcome classifies one request.
type outcome int

const (
	outcomeOK      outcome = iota // allowed, with a JSONPatch
	outcomeError                  // transport error, bad status, undecodable or mismatched answer
	outcomeDenied                 // a well-formed answer that does not allow the Pod
	outcomeNoPatch                // allowed, but no usable JSONPatch
)

// jsonPatchOp is the part of an RFC 6902 operation checked here.
type jsonPatchOp struct {
	Op   string `json:"op"`
	Path string `json:"path"`
}

// checkResponse classifies the webhook's answer to the request with the given UID; the
// error explains every outcome but outcomeOK.
func checkResponse(status int, body []byte, uid types.UID) (outcome, error) {
	if status != http.StatusOK {
		return outcomeError, fmt.Errorf("HTTP %d: %.200s", status, body)
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		return outcomeError, fmt.Errorf("undecodable AdmissionReview: %w", err)
	}
	resp := review.Response
	switch {
	case review.APIVersion != "admission.k8s.io/v1" || review.Kind != "AdmissionReview":
		return outcomeError, fmt.Errorf("answer is %s %s, want admission.k8s.io/v1 AdmissionReview", review.APIVersion, review.Kind)
	case resp == nil:
		return outcomeError, fmt.Errorf("AdmissionReview without a response")
	case resp.UID != uid:
		return outcomeError, fmt.Errorf("response UID %q, want the request's %q", resp.UID, uid)
	case !resp.Allowed:
		msg := ""
		if resp.Result != nil {
			msg = resp.Result.Message
		}
		return outcomeDenied, fmt.Errorf("denied: %s", msg)
	case resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch:
		return outcomeNoPatch, fmt.Errorf("allowed without a JSONPatch (patchType %v)", resp.PatchType)
	}
	var ops []jsonPatchOp
	if err := json.Unmarshal(resp.Patch, &ops); err != nil {
		return outcomeNoPatch, fmt.Errorf("patch is not a JSON Patch: %w", err)
	}
	if len(ops) == 0 {
		return outcomeNoPatch, fmt.Errorf("empty JSON Patch")
	}
	for _, op := range ops {
		if op.Op == "" || op.Path == "" {
			return outcomeNoPatch, fmt.Errorf("JSON Patch operation without op or path")
		}
	}
	return outcomeOK, nil
}

// Package certs supplies the webhook server's TLS certificate and the CA bundle the
// MutatingWebhookConfiguration carries ([Provider]).
//
// [SecretProvider] and [FileProvider] serve a certificate an outside issuer (cert-manager)
// writes, from its Secret through the API or from the Secret mounted as files; they publish no
// CA bundle, since cert-manager's cainjector writes the webhook configuration's (external.go
// says what they promise). The rest of this comment is about SelfSigned.
//
// [SelfSigned] manages both itself, with no outside issuer. Every replica of osm-injector
// runs one (it is not leader-elected: every replica serves the webhook); they agree through
// one Secret, by default osm-system/osm-injector-tls, of type kubernetes.io/tls:
//
//	tls.crt      the serving certificate (ECDSA P-256), for Options.DNSNames and IPAddresses
//	tls.key      its key
//	ca.crt       the CA bundle to trust: the signing CA, plus the next or previous CA around a rotation
//	ca.key       the signing CA's key (its certificate is the bundle's one with that public key)
//	next-ca.key  during a CA rotation only: the next CA's key
//
// and, during a CA rotation, the annotation tracing.openservicemesh.io/next-ca-published-at.
//
// # Agreement between replicas
//
// At Start a provider reads the Secret. If it is missing, the provider generates a CA and a
// serving certificate and creates it; a replica that loses that race (AlreadyExists) reads the
// winner's Secret instead, so all replicas serve certificates of one CA. If the Secret is
// incomplete, undecodable, expired, or its serving certificate lacks a required name or is
// due for renewal, the provider repairs it with an Update carrying the resourceVersion it
// read; a Conflict means another replica wrote first, and the provider reads the Secret again
// (usually to find nothing left to do). An informer on that one Secret delivers every write to
// every replica, which serves the new certificate through GetCertificate at once, without a
// restart; a timer wakes the provider when the next renewal or rotation step falls due.
//
// # Serving certificate rotation
//
// A serving certificate (lifetime Options.CertValidity, default one year) is renewed once
// Options.RenewBefore of its lifetime is left (default one third), by whichever replica
// notices first. The CA does not change, so neither does the bundle: replicas that still serve
// the previous certificate for the moment it takes the informer to deliver the new one are
// still trusted, and no admission request fails during the rotation.
//
// # CA rotation
//
// The CA (Options.CAValidity, default ten years) is kept while it is valid and rotated in
// three steps, each a separate write to the Secret:
//
//  1. When the signing CA reaches its renewal point, a next CA is generated and added to the
//     bundle (old + new) while serving certificates stay signed by the old CA. Changed fires
//     on every replica; the leader rewrites the MutatingWebhookConfiguration's caBundle.
//  2. Options.BundlePropagation later (default two minutes, time for the webhook
//     configuration to be updated and reach every API server), the next CA becomes the signing
//     CA and a serving certificate signed by it is issued. Replicas switch one by one; both
//     CAs are trusted meanwhile.
//  3. The old CA stays in the bundle until it expires, then it is dropped (one more bundle
//     change), so a certificate signed by it is never served while it is untrusted.
//
// A Secret whose signing CA is lost or expired gets a new CA at once (still-valid CAs of the
// old bundle are kept in the new one); only then can admission requests fail for the time it
// takes the webhook configuration to receive the new bundle. Deleting the Secret does not
// change the CA: a replica recreates it from the last version it loaded.
package certs

//! The two signature headers of a webhook request, over the exact body bytes sent:
//! `Mobieus-Signature: t=<unix>,v1=<hex>[,v1_prev=<hex>]`, where
//! v1 = hex(HMAC-SHA256(key, "<t>.<body>")), and the Standard Webhooks
//! `webhook-signature: v1,<base64> [v1,<base64>]` over "<webhook-id>.<t>.<body>".
//! During a rotation's grace window both carry a second signature made with the previous
//! secret, so receivers verify with either.

use super::WebhookSecret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use sha2::Sha256;

/// The signature header values of one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `Mobieus-Signature`.
    pub mobieus_signature: String,
    /// `webhook-signature` (Standard Webhooks).
    pub webhook_signature: String,
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail.
    let Ok(mut mac) = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return Vec::new();
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Signs `body` as sent at `timestamp` (Unix seconds) for the event `webhook_id`.
pub fn sign(
    webhook_id: &str,
    timestamp: i64,
    body: &[u8],
    current: &WebhookSecret,
    previous: Option<&WebhookSecret>,
) -> SignatureHeaders {
    let t = timestamp.to_string();
    let ours = |s: &WebhookSecret| hex::encode(hmac(s.key(), &[t.as_bytes(), b".", body]));
    let standard = |s: &WebhookSecret| {
        format!(
            "v1,{}",
            STANDARD.encode(hmac(
                s.key(),
                &[webhook_id.as_bytes(), b".", t.as_bytes(), b".", body]
            ))
        )
    };
    let mut mobieus_signature = format!("t={t},v1={}", ours(current));
    let mut webhook_signature = standard(current);
    if let Some(prev) = previous {
        mobieus_signature.push_str(&format!(",v1_prev={}", ours(prev)));
        webhook_signature.push(' ');
        webhook_signature.push_str(&standard(prev));
    }
    SignatureHeaders {
        mobieus_signature,
        webhook_signature,
    }
}

/// Why a signature was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadSignature {
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

fn mac_matches(key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
    let Ok(mut mac) = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return false;
    };
    for part in parts {
        mac.update(part);
    }
    // Constant time.
    mac.verify_slice(expected).is_ok()
}

fn fresh(t: i64, now: i64, tolerance_secs: i64) -> Result<(), BadSignature> {
    if (now - t).abs() > tolerance_secs {
        return Err(BadSignature::Stale);
    }
    Ok(())
}

/// Verifies a `Mobieus-Signature` header over `body` with `secret`: accepted when its
/// `v1` (or, during a rotation, `v1_prev`) matches and `t` is within `tolerance_secs` of
/// `now` (Unix seconds). What a receiver written in Rust does.
pub fn verify(
    header: &str,
    body: &[u8],
    secret: &WebhookSecret,
    now: i64,
    tolerance_secs: i64,
) -> Result<(), BadSignature> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v),
            Some(("v1" | "v1_prev", v)) => sigs.push(v),
            _ => {}
        }
    }
    let t_text = t.ok_or(BadSignature::Malformed)?;
    let t: i64 = t_text.parse().map_err(|_| BadSignature::Malformed)?;
    fresh(t, now, tolerance_secs)?;
    let matched = sigs.iter().any(|sig| {
        hex::decode(sig)
            .is_ok_and(|raw| mac_matches(secret.key(), &[t_text.as_bytes(), b".", body], &raw))
    });
    if matched {
        Ok(())
    } else {
        Err(BadSignature::Mismatch)
    }
}

/// Verifies the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature`) over `body` with `secret`, as the Standard Webhooks libraries do.
pub fn verify_standard(
    webhook_id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    secret: &WebhookSecret,
    now: i64,
    tolerance_secs: i64,
) -> Result<(), BadSignature> {
    let t: i64 = timestamp.parse().map_err(|_| BadSignature::Malformed)?;
    fresh(t, now, tolerance_secs)?;
    let matched = signatures.split(' ').any(|sig| {
        sig.strip_prefix("v1,")
            .and_then(|b| STANDARD.decode(b).ok())
            .is_some_and(|raw| {
                mac_matches(
                    secret.key(),
                    &[
                        webhook_id.as_bytes(),
                        b".",
                        timestamp.as_bytes(),
                        b".",
                        body,
                    ],
                    &raw,
                )
            })
    });
    if matched {
        Ok(())
    } else {
        Err(BadSignature::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared vectors (`signature-vectors.json`), with and without a previous secret.
    #[test]
    fn matches_the_published_vectors() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("signature-vectors.json")).unwrap();
        let vectors = doc["vectors"].as_array().unwrap();
        assert_eq!(vectors.len(), 2);
        for v in vectors {
            let current = WebhookSecret::parse(v["secret"].as_str().unwrap()).unwrap();
            let previous = v
                .get("previous_secret")
                .map(|p| WebhookSecret::parse(p.as_str().unwrap()).unwrap());
            let got = sign(
                v["webhook_id"].as_str().unwrap(),
                v["timestamp"].as_i64().unwrap(),
                v["body"].as_str().unwrap().as_bytes(),
                &current,
                previous.as_ref(),
            );
            assert_eq!(
                got.mobieus_signature,
                v["mobieus_signature"].as_str().unwrap(),
                "{}",
                v["name"]
            );
            assert_eq!(
                got.webhook_signature,
                v["webhook_signature"].as_str().unwrap(),
                "{}",
                v["name"]
            );
        }
    }

    #[test]
    fn what_is_signed_verifies_with_either_secret_and_nothing_else_does() {
        let (new, old) = (WebhookSecret::generate(), WebhookSecret::generate());
        let body = b"{\"id\":\"evt_1\"}";
        let sig = sign("evt_1", 1_000, body, &new, Some(&old));
        for secret in [&new, &old] {
            assert_eq!(
                verify(&sig.mobieus_signature, body, secret, 1_100, 300),
                Ok(())
            );
            let ok = verify_standard(
                "evt_1",
                "1000",
                &sig.webhook_signature,
                body,
                secret,
                1_100,
                300,
            );
            assert_eq!(ok, Ok(()));
        }
        let other = WebhookSecret::generate();
        assert_eq!(
            verify(&sig.mobieus_signature, body, &other, 1_000, 300),
            Err(BadSignature::Mismatch)
        );
        assert_eq!(
            verify(&sig.mobieus_signature, b"{}", &new, 1_000, 300),
            Err(BadSignature::Mismatch)
        );
        assert_eq!(
            verify(&sig.mobieus_signature, body, &new, 2_000, 300),
            Err(BadSignature::Stale)
        );
        assert_eq!(
            verify("v1=00", body, &new, 1_000, 300),
            Err(BadSignature::Malformed)
        );
        let wrong_id = verify_standard(
            "evt_2",
            "1000",
            &sig.webhook_signature,
            body,
            &new,
            1_000,
            300,
        );
        assert_eq!(wrong_id, Err(BadSignature::Mismatch));
    }

    #[test]
    fn a_changed_byte_changes_both_signatures() {
        let s = WebhookSecret::generate();
        let a = sign("evt_1", 1, b"{\"a\":1}", &s, None);
        let b = sign("evt_1", 1, b"{\"a\":2}", &s, None);
        assert_ne!(a.mobieus_signature, b.mobieus_signature);
        assert_ne!(a.webhook_signature, b.webhook_signature);
    }
}

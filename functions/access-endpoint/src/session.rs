//! The browser's session: an AES-256-GCM sealed cookie (the OTDS token, the user, when it
//! ends), so the function keeps no session state and the token never reaches the browser in
//! the clear. The cookie's name is the associated data: a login cookie cannot be replayed as
//! a session cookie.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// The session cookie: strict, so no other site's page can make the browser send it.
pub const SESSION_COOKIE: &str = "rb_session";
/// The sign-in's PKCE verifier and state, for the way back from OTDS (a cross-site
/// navigation, hence `Lax`).
pub const LOGIN_COOKIE: &str = "rb_login";

/// What a signed-in browser carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub user: String,
    /// Unix seconds.
    pub expires_at: u64,
}

/// A sign-in under way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub state: String,
    pub verifier: String,
    pub expires_at: u64,
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Seals and opens cookies with the stack's session key.
pub struct CookieKey {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl CookieKey {
    /// From 32 key bytes (the stack's generated secret, base64 or hex or raw ≥ 32 chars).
    pub fn new(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() < 32 {
            return Err(format!(
                "the session key has {} bytes; 32 are needed",
                bytes.len()
            ));
        }
        let unbound = UnboundKey::new(&AES_256_GCM, &bytes[..32])
            .map_err(|_| "the session key is not an AES-256 key".to_string())?;
        Ok(CookieKey {
            key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
        })
    }

    /// A random URL-safe string of `n` bytes (states, PKCE verifiers).
    pub fn random(&self, n: usize) -> String {
        let mut b = vec![0u8; n];
        // The system RNG fails only if the OS has none; then nothing random is safe.
        self.rng.fill(&mut b).expect("system random");
        URL_SAFE_NO_PAD.encode(b)
    }

    pub fn seal<T: Serialize>(&self, name: &str, value: &T) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).expect("system random");
        let mut data = serde_json::to_vec(value).expect("plain data");
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(name.as_bytes()),
                &mut data,
            )
            .expect("sealing fits in memory");
        let mut out = nonce.to_vec();
        out.extend(data);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The cookie's value if it is ours, untouched, and for this cookie name.
    pub fn open<T: for<'de> Deserialize<'de>>(&self, name: &str, sealed: &str) -> Option<T> {
        let raw = URL_SAFE_NO_PAD.decode(sealed.trim()).ok()?;
        if raw.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let mut body = body.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(name.as_bytes()), &mut body)
            .ok()?;
        serde_json::from_slice(plain).ok()
    }
}

/// `Set-Cookie` for `name`: HttpOnly, Secure, the given SameSite, path `/`, `max_age`.
pub fn set_cookie(name: &str, value: &str, same_site: &str, max_age: Duration) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite={same_site}",
        max_age.as_secs()
    )
}

/// Clears `name`.
pub fn clear_cookie(name: &str, same_site: &str) -> String {
    format!("{name}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite={same_site}")
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?.split(';').find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CookieKey {
        CookieKey::new(&[7u8; 32]).unwrap()
    }

    #[test]
    fn a_sealed_session_opens_only_unchanged_and_under_its_name() {
        let k = key();
        let s = Session {
            token: "secret-token".into(),
            user: "jdoe".into(),
            expires_at: 99,
        };
        let sealed = k.seal(SESSION_COOKIE, &s);
        assert!(!sealed.contains("secret-token"));
        assert_eq!(k.open::<Session>(SESSION_COOKIE, &sealed), Some(s));
        assert_eq!(k.open::<Session>(LOGIN_COOKIE, &sealed), None, "name bound");
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            k.open::<Session>(SESSION_COOKIE, &URL_SAFE_NO_PAD.encode(bytes)),
            None,
            "tampered"
        );
        let other = CookieKey::new(&[8u8; 32]).unwrap();
        assert_eq!(other.open::<Session>(SESSION_COOKIE, &sealed), None);
        assert_eq!(k.open::<Session>(SESSION_COOKIE, "garbage!"), None);
        assert_eq!(k.open::<Session>(SESSION_COOKIE, ""), None);
    }

    #[test]
    fn cookies_are_strict_http_only_and_secure() {
        let c = set_cookie(SESSION_COOKIE, "v", "Strict", Duration::from_secs(900));
        assert_eq!(
            c,
            "rb_session=v; Path=/; Max-Age=900; HttpOnly; Secure; SameSite=Strict"
        );
        assert_eq!(
            cookie(Some("a=1; rb_session=xyz; b=2"), SESSION_COOKIE),
            Some("xyz")
        );
        assert_eq!(cookie(Some("a=1"), SESSION_COOKIE), None);
        assert!(CookieKey::new(&[1u8; 16]).is_err());
    }
}

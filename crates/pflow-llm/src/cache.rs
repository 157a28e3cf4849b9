//! The reply cache: `llm` replies kept across runs (SPEC §5.7).
//!
//! An entry is keyed by the SHA-256 of everything that shapes the reply — the provider,
//! its base URL, the model, the system prompt, the prompt after templates, the
//! temperature, the token ceiling and the schema — and never by the key. It lives at
//! `<dir>/<2 hex>/<64 hex>.json` and is written once: to a temp file beside it, synced,
//! then published by a rename that never replaces, so concurrent runs writing the same
//! entry leave one whole file and a reader sees a whole entry or none. An entry that does
//! not read back whole (or is for another key) is a miss.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{Endpoint, Reply, Request, Usage};

/// The format of an entry; another format is a miss.
const FORMAT: u32 = 1;

/// The largest entry read back.
const MAX_ENTRY_BYTES: u64 = 32 * 1024 * 1024;

/// What identifies a reply: the hex SHA-256 of what shapes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    /// The key of asking `endpoint`'s model `request`.
    pub fn new(endpoint: &Endpoint, request: &Request) -> CacheKey {
        let material = json!({
            "format": FORMAT,
            "provider": endpoint.model.provider(),
            "base_url": endpoint.base_url,
            "model": endpoint.model.name(),
            "system": request.system,
            "prompt": request.prompt,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "schema": request.schema,
        });
        let digest = Sha256::digest(material.to_string().as_bytes());
        CacheKey(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The key as 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A directory of cached replies.
#[derive(Debug, Clone)]
pub struct ReplyCache {
    dir: PathBuf,
}

/// An entry as stored.
#[derive(Serialize, Deserialize)]
struct Entry {
    format: u32,
    key: String,
    model: String,
    text: String,
    usage: Usage,
}

impl ReplyCache {
    /// The cache in `dir` (`<home>/cache/llm`); nothing is created until a reply is kept.
    pub fn new(dir: impl Into<PathBuf>) -> ReplyCache {
        ReplyCache { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The reply kept for `key`, when a whole one is there.
    pub fn get(&self, key: &CacheKey) -> Option<Reply> {
        let bytes = pflow_fsio::read_regular_file(&self.path(key), MAX_ENTRY_BYTES).ok()?;
        let entry: Entry = serde_json::from_slice(&bytes).ok()?;
        (entry.format == FORMAT && entry.key == key.0).then_some(Reply {
            text: entry.text,
            usage: entry.usage,
            model: entry.model,
            attempts: 0,
        })
    }

    /// Keeps `reply` under `key`. An entry already there is kept (it is the same reply,
    /// or another run's equally good one).
    pub fn put(&self, key: &CacheKey, reply: &Reply) -> io::Result<()> {
        let path = self.path(key);
        let shard = path.parent().expect("an entry's path has its shard directory");
        fs::create_dir_all(shard).map_err(|e| at(shard, e))?;
        let entry = Entry {
            format: FORMAT,
            key: key.0.clone(),
            model: reply.model.clone(),
            text: reply.text.clone(),
            usage: reply.usage,
        };
        let bytes = serde_json::to_vec(&entry).map_err(io::Error::other)?;
        let mut temp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(shard)
            .map_err(|e| at(shard, e))?;
        temp.write_all(&bytes)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|e| at(temp.path(), e))?;
        match temp.persist_noclobber(&path) {
            Ok(_) => Ok(()),
            // Only an entry that does not read back whole (damaged by something other
            // than this writer, which never leaves one) is replaced, atomically.
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => match self.get(key) {
                Some(_) => Ok(()),
                None => e.file.persist(&path).map(drop).map_err(|e| at(&path, e.error)),
            },
            Err(e) => Err(at(&path, e.error)),
        }
    }

    fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(&key.0[..2]).join(format!("{}.json", key.0))
    }
}

/// `error` with the path it is about.
fn at(path: &Path, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("`{}`: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{LlmSettings, ModelRef, Providers};

    fn endpoint(model: &str, key: &str) -> Endpoint {
        let key = key.to_owned();
        let providers = Providers::new(LlmSettings::default(), move |v| {
            (v == "OPENAI_API_KEY").then(|| key.clone())
        });
        providers.endpoint(&ModelRef::parse(model).unwrap()).unwrap()
    }

    fn request() -> Request {
        Request {
            system: None,
            prompt: "hi".into(),
            temperature: 1.0,
            max_tokens: None,
            schema: None,
        }
    }

    #[test]
    fn the_key_is_what_shapes_the_reply_and_never_the_api_key() {
        let base = CacheKey::new(&endpoint("openai/gpt-4o-mini", "sk-one"), &request());
        assert_eq!(base, CacheKey::new(&endpoint("openai/gpt-4o-mini", "sk-two"), &request()));
        assert_ne!(base, CacheKey::new(&endpoint("openai/gpt-4o", "sk-one"), &request()));
        let variants = [
            Request { system: Some("s".into()), ..request() },
            Request { prompt: "hi!".into(), ..request() },
            Request { temperature: 0.5, ..request() },
            Request { max_tokens: Some(10), ..request() },
            Request { schema: Some(json!({"type": "object"})), ..request() },
        ];
        for variant in variants {
            assert_ne!(
                base,
                CacheKey::new(&endpoint("openai/gpt-4o-mini", "sk-one"), &variant),
                "{variant:?}"
            );
        }
    }

    #[test]
    fn entries_round_trip_and_torn_or_foreign_ones_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ReplyCache::new(dir.path().join("llm"));
        let key = CacheKey::new(&endpoint("openai/gpt-4o-mini", "sk-1"), &request());
        assert_eq!(cache.get(&key), None);
        let reply = Reply {
            text: "hello".into(),
            usage: Usage { input_tokens: 3, output_tokens: 1, ..Usage::default() },
            model: "gpt-4o-mini-2024-07-18".into(),
            attempts: 1,
        };
        cache.put(&key, &reply).unwrap();
        cache.put(&key, &Reply { text: "other".into(), ..reply.clone() }).unwrap();
        assert_eq!(cache.get(&key), Some(Reply { attempts: 0, ..reply.clone() }));
        let path = cache.path(&key);
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert_eq!(cache.get(&key), None);
        cache.put(&key, &reply).unwrap();
        assert_eq!(cache.get(&key).map(|r| r.text), Some("hello".to_owned()));
        let other = CacheKey::new(&endpoint("openai/gpt-4o", "sk-1"), &request());
        fs::create_dir_all(cache.path(&other).parent().unwrap()).unwrap();
        fs::write(cache.path(&other), &bytes).unwrap();
        assert_eq!(cache.get(&other), None);
        let text = fs::read_to_string(cache.path(&key)).unwrap_or_default();
        assert!(!text.contains("sk-1"));
    }
}

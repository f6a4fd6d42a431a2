//! The encrypted credentials file on disk: key files, wrong keys, atomic writes, and no
//! plaintext anywhere in the directory.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use mlc_core::engine::ports::{SecretStore, StoreError};
use mlc_core::secret::Credentials;
use mlc_local::{FileSecretStore, KEY_FILE_NAME, LocalError, SecretKey};

const PASSWORD: &str = "hunter2-correct-horse-battery";
const CLIENT_SECRET: &str = "cs_live_9f8e7d6c5b4a";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn creds() -> Credentials {
    Credentials::new().with("username", "api-user").with("password", PASSWORD).with("client_secret", CLIENT_SECRET)
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn init_key_creates_a_private_key_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("conf/secret.key");
    FileSecretStore::init_key(&key_file).unwrap();
    assert_eq!(mode(&key_file), 0o600);
    let text = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(text.trim().len(), 44, "base64 of 32 bytes");
    SecretKey::resolve(None, &key_file).expect("the new key file is usable");
    let err = FileSecretStore::init_key(&key_file).unwrap_err();
    assert!(matches!(err, LocalError::KeyExists { .. }), "{err:?}");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), text, "an existing key is never replaced");
}

#[test]
fn a_key_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join(KEY_FILE_NAME);
    FileSecretStore::init_key(&key_file).unwrap();
    for m in [0o640, 0o604, 0o660] {
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(m)).unwrap();
        let err = SecretKey::resolve(None, &key_file).unwrap_err();
        assert!(matches!(err, LocalError::KeyPermissions { .. }), "{m:o}: {err:?}");
        let msg = err.to_string();
        assert!(msg.contains(&format!("chmod 600 {}", key_file.display())), "{msg}");
        if std::env::var_os(mlc_local::KEY_ENV).is_none() {
            assert!(matches!(FileSecretStore::open(dir.path()), Err(LocalError::KeyPermissions { .. })));
        }
    }
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    SecretKey::resolve(None, &key_file).expect("0600 is accepted");
}

#[test]
fn a_missing_key_says_where_to_put_one() {
    let dir = tempfile::tempdir().unwrap();
    let err = SecretKey::resolve(None, &dir.path().join(KEY_FILE_NAME)).unwrap_err();
    assert!(matches!(err, LocalError::KeyMissing { .. }));
    assert!(err.to_string().contains("MLC_SECRET_KEY"), "{err}");
}

#[test]
fn the_environment_value_wins_over_the_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join(KEY_FILE_NAME); // does not exist
    let k = SecretKey::resolve(Some("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="), &key_file).unwrap();
    assert_eq!(k.origin(), "MLC_SECRET_KEY");
    let err = SecretKey::resolve(Some("c2hvcnQ="), &key_file).unwrap_err();
    assert!(matches!(err, LocalError::KeyInvalid { .. }) && err.to_string().contains("MLC_SECRET_KEY"), "{err}");
}

#[test]
fn a_wrong_key_is_a_clear_error_and_never_an_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("credentials.enc");
    let right = SecretKey::generate().unwrap();
    let rt = runtime();
    let store = FileSecretStore::open_with_key(&file, right.clone()).unwrap();
    rt.block_on(store.put("deltek", &creds())).unwrap();
    let before = std::fs::read(&file).unwrap();

    let wrong = SecretKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "MLC_SECRET_KEY").unwrap();
    let err = FileSecretStore::open_with_key(&file, wrong.clone()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, LocalError::WrongKey { .. }), "{err:?}");
    assert!(msg.starts_with(&format!("cannot decrypt {}: wrong key (MLC_SECRET_KEY)", file.display())), "{msg}");

    // A handle whose key stopped matching (the file was rewritten under another key) refuses to
    // read or write, and the file stays as it is.
    let other_dir = tempfile::tempdir().unwrap();
    let stale = FileSecretStore::open_with_key(other_dir.path().join("credentials.enc"), wrong).unwrap();
    std::fs::copy(&file, stale.path()).unwrap();
    match rt.block_on(stale.put("cin7", &Credentials::new().with("api_key", "x"))) {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("wrong key"), "{m}"),
        other => panic!("expected a wrong-key error, got {other:?}"),
    }
    assert!(matches!(rt.block_on(stale.get("deltek")), Err(StoreError::Corrupt(_))));
    assert_eq!(std::fs::read(stale.path()).unwrap(), before, "never overwritten with a wrong key");
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // The right key still reads it.
    let back = rt.block_on(FileSecretStore::open_with_key(&file, right).unwrap().get("deltek")).unwrap().unwrap();
    assert_eq!(back.get("password").unwrap().expose(), PASSWORD);
}

#[test]
fn an_altered_header_or_body_does_not_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("credentials.enc");
    let key = SecretKey::generate().unwrap();
    let store = FileSecretStore::open_with_key(&file, key.clone()).unwrap();
    runtime().block_on(store.put("deltek", &creds())).unwrap();
    let good = std::fs::read(&file).unwrap();
    for (at, what) in
        [(0usize, "magic"), (8, "format byte"), (12, "nonce"), (30, "ciphertext"), (good.len() - 1, "tag")]
    {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        std::fs::write(&file, &bad).unwrap();
        let err = FileSecretStore::open_with_key(&file, key.clone()).unwrap_err();
        assert!(
            matches!(
                err,
                LocalError::WrongKey { .. } | LocalError::SecretsTooNew { .. } | LocalError::NotSecretsFile { .. }
            ),
            "{what} flipped: {err:?}"
        );
        assert_eq!(std::fs::read(&file).unwrap(), bad);
    }
    std::fs::write(&file, b"{\"deltek\": {\"password\": \"plain\"}}").unwrap();
    let err = FileSecretStore::open_with_key(&file, key).unwrap_err();
    assert!(matches!(err, LocalError::NotSecretsFile { .. }), "{err:?}");
}

#[test]
fn nothing_on_disk_holds_a_plaintext_value() {
    let dir = tempfile::tempdir().unwrap();
    FileSecretStore::init_key(dir.path().join(KEY_FILE_NAME)).unwrap();
    let key = SecretKey::resolve(None, &dir.path().join(KEY_FILE_NAME)).unwrap();
    let store = FileSecretStore::open_with_key(dir.path().join("credentials.enc"), key).unwrap();
    let rt = runtime();
    rt.block_on(async {
        store.put("deltek", &creds()).await.unwrap();
        store.put("cin7", &Credentials::new().with("api_key", PASSWORD)).await.unwrap();
        store.delete("cin7").await.unwrap();
        store.put("coupa", &creds()).await.unwrap();
    });
    assert_eq!(mode(store.path()), 0o600, "the credentials file is private too");
    let mut files = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        assert!(!path.to_string_lossy().ends_with(".tmp"), "no temporary file left: {}", path.display());
        let bytes = std::fs::read(&path).unwrap();
        for needle in [PASSWORD, CLIENT_SECRET, "api-user", "password", "client_secret"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} holds {needle:?} in plain text",
                path.display()
            );
        }
        files += 1;
    }
    assert!(files >= 2, "key file and credentials file at least");
    let names = rt.block_on(store.list()).unwrap();
    assert_eq!(names, ["coupa", "deltek"]);
    let debug = format!("{:?}", rt.block_on(store.get("deltek")).unwrap());
    assert!(!debug.contains(PASSWORD), "values leave only as redacting Credentials: {debug}");
}

//! `MLC_SECRET_KEY` from the real process environment. Alone in its test binary, so setting the
//! variable cannot race another test.

use mlc_core::engine::ports::SecretStore;
use mlc_core::secret::Credentials;
use mlc_local::{FileSecretStore, KEY_ENV, KEY_FILE_NAME, SecretKey};

#[test]
fn the_key_from_mlc_secret_key_opens_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    // SAFETY: the only test in this binary, so no other thread reads the environment meanwhile.
    unsafe { std::env::set_var(KEY_ENV, key) };
    // No key file at all: the variable is enough.
    let store = FileSecretStore::open(dir.path()).unwrap();
    assert_eq!(store.key_origin(), KEY_ENV);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(store.put("deltek", &Credentials::new().with("password", "pw-from-env"))).unwrap();
    assert!(!dir.path().join(KEY_FILE_NAME).exists(), "no key file is written when the variable is used");

    // The variable wins over a key file, even one that would be refused.
    FileSecretStore::init_key(dir.path().join(KEY_FILE_NAME)).unwrap();
    let again = FileSecretStore::open(dir.path()).unwrap();
    let back = rt.block_on(again.get("deltek")).unwrap().unwrap();
    assert_eq!(back.get("password").unwrap().expose(), "pw-from-env");

    // The same key given another way reads the same file.
    let explicit = SecretKey::from_base64(key, "test").unwrap();
    let third = FileSecretStore::open_with_key(store.path(), explicit).unwrap();
    assert_eq!(rt.block_on(third.list()).unwrap(), ["deltek"]);

    // Unset: the (different) key file is used, and it does not decrypt the file.
    unsafe { std::env::remove_var(KEY_ENV) };
    let err = FileSecretStore::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("wrong key") && err.contains(KEY_FILE_NAME), "{err}");
}

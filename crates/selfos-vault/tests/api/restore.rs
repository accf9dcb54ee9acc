//! A replica's folder restored from a backup, or copied to a second device, goes on syncing:
//! what it records afterwards merges with what its other self recorded, in both directions.

use selfos_vault::{FileStore, MemoryStore, Vault};

use crate::support::{T0, all_files, content, ns, pass, replicas_in};

/// Every replica lists the same responses and holds the same heads.
fn assert_same(vaults: &[&Vault<impl selfos_vault::ChunkStore>], expected: usize) {
    let reference = vaults[0].list(None);
    assert!(
        reference.unreadable.is_empty(),
        "{:?}",
        reference.unreadable
    );
    assert_eq!(reference.responses.len(), expected);
    for (i, v) in vaults.iter().enumerate() {
        let listing = v.list(None);
        assert!(
            listing.unreadable.is_empty(),
            "replica {i}: {:?}",
            listing.unreadable
        );
        assert_eq!(
            listing.responses, reference.responses,
            "replica {i} lists differently"
        );
        assert_eq!(v.heads(&ns("chatgpt")), vaults[0].heads(&ns("chatgpt")));
    }
}

#[test]
fn a_replica_restored_from_a_backup_syncs_and_gets_back_what_it_lost() {
    let chatgpt = ns("chatgpt");
    let mut replicas = replicas_in([MemoryStore::new(), MemoryStore::new()]);
    let (mut laptop, mut phone) = (replicas.remove(0), replicas.remove(0));
    laptop
        .record(&chatgpt, content("chatgpt", "before the backup", T0), T0)
        .unwrap();
    let backup = laptop.store().clone();

    let lost = laptop
        .record(
            &chatgpt,
            content("chatgpt", "after the backup", T0 + 1),
            T0 + 1,
        )
        .unwrap();
    let doomed = laptop
        .record(
            &chatgpt,
            content("chatgpt", "deleted later", T0 + 2),
            T0 + 2,
        )
        .unwrap();
    laptop.delete(&doomed, T0 + 3).unwrap();
    phone.merge_from(&mut laptop, T0 + 4).unwrap();
    drop(laptop);

    // The disk is restored: the laptop forgets the last three changes and records again.
    let mut laptop = Vault::open(backup, &pass()).unwrap();
    assert_eq!(laptop.list(None).responses.len(), 1, "what the backup held");
    let fresh = laptop
        .record(
            &chatgpt,
            content("chatgpt", "after the restore", T0 + 5),
            T0 + 5,
        )
        .unwrap();

    laptop
        .merge_from(&mut phone, T0 + 6)
        .expect("the restored replica merges");
    phone
        .merge_from(&mut laptop, T0 + 7)
        .expect("its peer merges it back");
    assert_same(&[&laptop, &phone], 3);
    for vault in [&laptop, &phone] {
        assert!(
            vault.get(&lost).unwrap().is_some(),
            "recorded after the backup, back again"
        );
        assert!(
            vault.get(&fresh).unwrap().is_some(),
            "recorded after the restore"
        );
        assert_eq!(
            vault.get(&doomed).unwrap(),
            None,
            "deleted after the backup, deleted again"
        );
    }
    // Both keep working: a later change flows either way.
    let later = phone
        .record(&chatgpt, content("chatgpt", "later", T0 + 8), T0 + 8)
        .unwrap();
    laptop.merge_from(&mut phone, T0 + 9).unwrap();
    assert!(laptop.get(&later).unwrap().is_some());
}

#[test]
fn a_folder_copied_to_a_second_device_syncs_with_the_original() {
    let chatgpt = ns("chatgpt");
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let stores = dirs[..2].iter().map(|d| FileStore::new(d.path()));
    let mut replicas = replicas_in(stores);
    let (mut original, mut peer) = (replicas.remove(0), replicas.remove(0));
    original
        .record(&chatgpt, content("chatgpt", "before the copy", T0), T0)
        .unwrap();
    drop(original);
    // The folder is copied as it is on disk, header and replica id included.
    for (path, bytes) in all_files(dirs[0].path()) {
        let to = dirs[2].path().join(path);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(&to, bytes).unwrap();
    }
    let mut original = Vault::open(FileStore::new(dirs[0].path()), &pass()).unwrap();
    let mut copy = Vault::open(FileStore::new(dirs[2].path()), &pass()).unwrap();
    assert_eq!(
        copy.replica(),
        original.replica(),
        "a copy keeps the replica id"
    );

    // Both devices record on their own, then meet through the peer and directly.
    original
        .record(
            &chatgpt,
            content("chatgpt", "on the original", T0 + 1),
            T0 + 1,
        )
        .unwrap();
    copy.record(&chatgpt, content("chatgpt", "on the copy", T0 + 1), T0 + 1)
        .unwrap();
    peer.merge_from(&mut original, T0 + 2)
        .expect("the peer merges the original");
    peer.merge_from(&mut copy, T0 + 3)
        .expect("the peer merges the copy");
    original
        .merge_from(&mut peer, T0 + 4)
        .expect("the original merges");
    copy.merge_from(&mut original, T0 + 5)
        .expect("the copy merges");
    assert_same(&[&original, &copy, &peer], 3);

    // And every one of them opens again with all of it.
    drop((original, copy));
    for dir in [&dirs[0], &dirs[2]] {
        let reopened = Vault::open(FileStore::new(dir.path()), &pass()).unwrap();
        assert!(reopened.damaged().is_empty(), "{:?}", reopened.damaged());
        assert_same(&[&reopened, &peer], 3);
    }
}

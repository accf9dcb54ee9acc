//! Vault benchmarks, against the budgets in DESIGN.md ("Budgets"):
//!
//! 1. write one answer, warm (`Vault::record` on a vault already holding ~1,000 answers), over
//!    `MemoryStore` and `FileStore::without_fsync`: p50/p99 from per-write timings, budget
//!    p99 <= 200 us; criterion reports the mean;
//! 2. the raw-Automerge baseline in the same run: `AutoCommit::put` of a value the size of a
//!    sealed record at a fresh key + `save_incremental()`, and the vault/raw ratio;
//! 3. open a vault of 10,000 answers (decrypt + load) over `MemoryStore`, budget <= 100 ms,
//!    with cheap Argon2id parameters (m=64 KiB, t=1, p=1) so key derivation is not in it;
//! 4. unlock: open of an empty vault at `KdfParams::DEFAULT` (Argon2id 64 MiB, t=3, p=4).
//!
//! A summary table with PASS/OVER is printed at the end. Under `--test` (`cargo test --benches`)
//! every setup is shrunk so the run takes seconds; its figures mean nothing.

// Bench setup: a failure should abort the run loudly, not be handled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    fs,
    hint::black_box,
    io::Write,
    path::Path,
    time::{Duration, Instant},
};

use automerge::{AutoCommit, ObjId, ObjType, ROOT, transaction::Transactable};
use criterion::{BatchSize, Criterion, SamplingMode};
use selfos::vault::{
    ChunkKind, ChunkStore, FileStore, ImportOptions, KdfParams, MemoryStore, Namespace, Vault,
};
use selfos_benches::{Row, Stats, ms, print_table, sample_content, sealed_body_len, test_mode, us};
// The simulated wall clock starts at T0: write `i` happens at `T0 + i` ms. Every vault but the
// unlock bench's uses the kit's cheap Argon2id parameters.
use selfos_testkit::{T0, kdf, ns, pass};
use tempfile::TempDir;

/// How much work each part does.
struct Sizes {
    /// Answers in the vault before the timed writes.
    prefill: u64,
    /// Timed writes in the manual loop.
    writes: usize,
    /// Answers in the vault that `open` is timed on.
    open_answers: u64,
    /// Timed opens of that vault.
    opens: usize,
    /// Timed unlocks at the default parameters.
    unlocks: usize,
}

impl Sizes {
    fn new() -> Self {
        if test_mode() {
            Self {
                prefill: 20,
                writes: 20,
                open_answers: 200,
                opens: 2,
                unlocks: 1,
            }
        } else {
            Self {
                prefill: 1_000,
                writes: 2_000,
                open_answers: 10_000,
                opens: 10,
                unlocks: 10,
            }
        }
    }
}

/// Records answers `from..to` (content `i` at time `T0 + i`), running `maintain` every
/// `IDLE_EVERY` answers and at the end, as a client does when idle (the CLI after each command).
fn fill<S: ChunkStore>(vault: &mut Vault<S>, from: u64, to: u64) {
    const IDLE_EVERY: u64 = 20;
    let ns = ns("chatgpt");
    for i in from..to {
        vault.record(&ns, sample_content(i), T0 + i).unwrap();
        if (i + 1) % IDLE_EVERY == 0 {
            vault.maintain().unwrap();
        }
    }
    vault.maintain().unwrap();
}

/// A warm vault being written to, and the folder that holds it (file store only).
struct Warm<S> {
    vault: Vault<S>,
    ns: Namespace,
    next: u64,
    written: u64,
    _dir: Option<TempDir>,
}

impl<S: ChunkStore> Warm<S> {
    /// Opens `store` (holding answers `0..prefill`) and writes one untimed answer, so the
    /// one-off clock scan after an open is out of the way.
    fn new(store: S, prefill: u64, dir: Option<TempDir>) -> Self {
        let mut vault = Vault::open(store, &pass()).unwrap();
        fill(&mut vault, prefill, prefill + 1);
        Self {
            vault,
            ns: ns("chatgpt"),
            next: prefill + 1,
            written: 0,
            _dir: dir,
        }
    }

    /// Records one answer; returns its time and whether the write compacted the namespace.
    fn write(&mut self, watch_compaction: bool) -> (Duration, bool) {
        let i = self.next;
        self.next += 1;
        self.written += 1;
        let content = sample_content(i);
        let before = if watch_compaction {
            self.vault.store().list(&self.ns).unwrap().len()
        } else {
            0
        };
        let start = Instant::now();
        let id = self.vault.record(&self.ns, content, T0 + i).unwrap();
        let took = start.elapsed();
        black_box(id);
        let compacted =
            watch_compaction && self.vault.store().list(&self.ns).unwrap().len() < before;
        (took, compacted)
    }
}

/// Makes warm vaults holding `prefill` answers, each from a pristine copy.
trait Fixture {
    type Store: ChunkStore;
    fn fresh(&self) -> Warm<Self::Store>;
    fn prefill(&self) -> u64;
}

struct MemoryFixture {
    pristine: MemoryStore,
    prefill: u64,
}

impl MemoryFixture {
    fn new(prefill: u64) -> Self {
        let mut vault = Vault::create(MemoryStore::new(), &pass(), kdf()).unwrap();
        fill(&mut vault, 0, prefill);
        Self {
            pristine: vault.store().clone(),
            prefill,
        }
    }
}

impl Fixture for MemoryFixture {
    type Store = MemoryStore;
    fn fresh(&self) -> Warm<MemoryStore> {
        Warm::new(self.pristine.clone(), self.prefill, None)
    }
    fn prefill(&self) -> u64 {
        self.prefill
    }
}

struct FileFixture {
    pristine: TempDir,
    prefill: u64,
}

impl FileFixture {
    fn new(prefill: u64) -> Self {
        let pristine = TempDir::new().unwrap();
        let store = FileStore::without_fsync(pristine.path().join("vault"));
        let mut vault = Vault::create(store, &pass(), kdf()).unwrap();
        fill(&mut vault, 0, prefill);
        Self { pristine, prefill }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

impl Fixture for FileFixture {
    type Store = FileStore;
    fn fresh(&self) -> Warm<FileStore> {
        let dir = TempDir::new().unwrap();
        copy_dir(
            &self.pristine.path().join("vault"),
            &dir.path().join("vault"),
        );
        let store = FileStore::without_fsync(dir.path().join("vault"));
        Warm::new(store, self.prefill, Some(dir))
    }
    fn prefill(&self) -> u64 {
        self.prefill
    }
}

/// Per-write timings of `n` writes on a fresh warm vault, and the timings of those writes that
/// compacted.
fn manual_writes<F: Fixture>(fixture: &F, n: usize) -> (Stats, Vec<Duration>) {
    let mut warm = fixture.fresh();
    let mut all = Vec::with_capacity(n);
    let mut compactions = Vec::new();
    for _ in 0..n {
        let (took, compacted) = warm.write(true);
        all.push(took);
        if compacted {
            compactions.push(took);
        }
    }
    (Stats::of(&all).unwrap(), compactions)
}

/// Criterion's mean of the same write; the vault is reset to the pristine copy once it has
/// taken `2 * prefill` more answers, so it stays near the intended size.
fn criterion_writes<F: Fixture>(c: &mut Criterion, name: &str, fixture: &F) {
    let mut warm = fixture.fresh();
    let limit = 2 * fixture.prefill().max(10);
    let mut group = c.benchmark_group("vault/write");
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            if warm.written > limit {
                warm = fixture.fresh();
            }
            (0..iters).map(|_| warm.write(false).0).sum()
        })
    });
    group.finish();
}

/// The raw-Automerge baseline: a document like a namespace's, one put + incremental save.
struct Raw {
    doc: AutoCommit,
    records: ObjId,
    next: u64,
    value_len: usize,
}

/// A scattered 32-hex-digit key, like a record id.
fn raw_key(i: u64) -> String {
    let mut x = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    format!("{x:016x}{i:016x}")
}

impl Raw {
    fn new(prefill: u64, value_len: usize) -> Self {
        let mut doc = AutoCommit::new();
        let records = doc.put_object(ROOT, "records", ObjType::Map).unwrap();
        doc.save_incremental();
        let mut raw = Self {
            doc,
            records,
            next: 0,
            value_len,
        };
        for _ in 0..prefill {
            raw.write();
        }
        raw
    }

    fn write(&mut self) -> Duration {
        let i = self.next;
        self.next += 1;
        let key = raw_key(i);
        let value = vec![(i % 251) as u8; self.value_len];
        let start = Instant::now();
        self.doc.put(&self.records, key, value).unwrap();
        let saved = self.doc.save_incremental();
        let took = start.elapsed();
        black_box(saved);
        took
    }
}

fn bench_raw(c: &mut Criterion, sizes: &Sizes, value_len: usize) -> Stats {
    let pristine = Raw::new(sizes.prefill, value_len);
    let fresh = || Raw {
        doc: pristine.doc.clone(),
        records: pristine.records.clone(),
        next: pristine.next,
        value_len,
    };
    let mut raw = fresh();
    let timings: Vec<Duration> = (0..sizes.writes).map(|_| raw.write()).collect();
    let mut raw = fresh();
    let limit = pristine.next + 2 * sizes.prefill.max(10);
    let mut group = c.benchmark_group("vault/write");
    group.bench_function("raw-automerge-put-save-incremental", |b| {
        b.iter_custom(|iters| {
            if raw.next > limit {
                raw = fresh();
            }
            (0..iters).map(|_| raw.write()).sum()
        })
    });
    group.finish();
    Stats::of(&timings).unwrap()
}

/// The file system's share of a `FileStore::without_fsync` write, without the vault: what
/// `FileStore` does per chunk (create the folder if needed, write a temporary file, rename it),
/// for `n` files of `len` bytes.
fn raw_file_writes(n: usize, len: usize) -> Stats {
    let dir = TempDir::new().unwrap();
    let folder = dir.path().join("chunks").join("chatgpt");
    let bytes = vec![0x5a_u8; len];
    let timings: Vec<Duration> = (0..n as u64)
        .map(|i| {
            let name = raw_key(i);
            let tmp = folder.join(format!(".tmp-{name}"));
            let start = Instant::now();
            fs::create_dir_all(&folder).unwrap();
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .unwrap();
            file.write_all(&bytes).unwrap();
            drop(file);
            fs::rename(&tmp, folder.join(&name)).unwrap();
            start.elapsed()
        })
        .collect();
    Stats::of(&timings).unwrap()
}

/// The size of one incremental chunk in `store`.
fn incremental_chunk_len(store: &MemoryStore) -> usize {
    let ns = ns("chatgpt");
    store
        .list(&ns)
        .unwrap()
        .into_iter()
        .find(|id| id.kind == ChunkKind::Incremental)
        .map_or(0, |id| store.read(&ns, &id).unwrap().len())
}

/// Raw Automerge, no vault: a document of `answers` records stored like the vault stores it
/// (one snapshot plus `pending` incremental saves); times loading it one `load_incremental`
/// per chunk (what `Vault::open` does) and all chunks concatenated in one call.
fn raw_load(answers: u64, pending: u64, value_len: usize) -> (Duration, Duration) {
    let mut raw = Raw::new(answers - pending, value_len);
    let mut chunks = vec![raw.doc.save()];
    for _ in 0..pending {
        let i = raw.next;
        raw.next += 1;
        raw.doc
            .put(&raw.records, raw_key(i), vec![0_u8; value_len])
            .unwrap();
        chunks.push(raw.doc.save_incremental());
    }
    let start = Instant::now();
    let mut doc = AutoCommit::new();
    for chunk in &chunks {
        doc.load_incremental(chunk).unwrap();
    }
    let per_chunk = start.elapsed();
    let joined = chunks.concat();
    let start = Instant::now();
    let mut one = AutoCommit::new();
    one.load_incremental(&joined).unwrap();
    let at_once = start.elapsed();
    assert_eq!(doc.get_heads(), one.get_heads());
    (per_chunk, at_once)
}

/// Times `opens` opens of copies of `store`.
fn manual_opens(store: &MemoryStore, opens: usize) -> Stats {
    let timings: Vec<Duration> = (0..opens)
        .map(|_| {
            let copy = store.clone();
            let passphrase = pass();
            let start = Instant::now();
            let vault = Vault::open(copy, &passphrase).unwrap();
            let took = start.elapsed();
            drop(black_box(vault));
            took
        })
        .collect();
    Stats::of(&timings).unwrap()
}

fn criterion_open(c: &mut Criterion, name: &str, store: &MemoryStore, samples: usize) {
    let mut group = c.benchmark_group("vault/open");
    group
        .sample_size(samples)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group.bench_function(name, |b| {
        b.iter_batched(
            || (store.clone(), pass()),
            |(s, p)| Vault::open(s, &p).unwrap(),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn main() {
    let sizes = Sizes::new();
    let mut c = Criterion::default().configure_from_args();
    let mut rows = Vec::new();
    let ns = ns("chatgpt");

    // 1. Warm writes.
    let started = Instant::now();
    let memory = MemoryFixture::new(sizes.prefill);
    let file = FileFixture::new(sizes.prefill);
    println!(
        "setup: two vaults of {} answers built in {:.2} s",
        sizes.prefill,
        started.elapsed().as_secs_f64()
    );
    let (mem, mem_compactions) = manual_writes(&memory, sizes.writes);
    let (fil, fil_compactions) = manual_writes(&file, sizes.writes);
    criterion_writes(&mut c, "record-memory-store", &memory);
    criterion_writes(&mut c, "record-file-store-no-fsync", &file);

    // 2. Raw Automerge in the same run, with a value the size of a sealed record.
    let value_len = sealed_body_len(sizes.prefill);
    let raw = bench_raw(&mut c, &sizes, value_len);

    let chunk_len = incremental_chunk_len(&memory.pristine);
    let fs_raw = raw_file_writes(sizes.writes, chunk_len);

    let label = |s: &str| format!("{s} ({} answers + {} writes)", sizes.prefill, sizes.writes);
    for (store, stats, compactions) in [
        ("MemoryStore", &mem, &mem_compactions),
        ("FileStore no fsync", &fil, &fil_compactions),
    ] {
        rows.push(Row::budget(
            &label(&format!("write p99, {store}")),
            us(stats.p99),
            "us",
            200.0,
        ));
        rows.push(Row::info(
            &format!("write p50 / mean / max, {store}"),
            format!(
                "{:.1} / {:.1} / {:.1} us",
                us(stats.p50),
                us(stats.mean),
                us(stats.max)
            ),
        ));
        let worst = compactions.iter().max().copied().unwrap_or_default();
        rows.push(Row::info(
            &format!("writes that compacted, {store}"),
            format!("{} (slowest {:.2} ms)", compactions.len(), ms(worst)),
        ));
    }
    rows.push(Row::info(
        &format!("raw automerge put {value_len} B + save_incremental p50 / p99"),
        format!("{:.1} / {:.1} us", us(raw.p50), us(raw.p99)),
    ));
    rows.push(Row::info(
        &format!("raw fs create+write {chunk_len} B+rename (FileStore's I/O) p50 / p99"),
        format!("{:.1} / {:.1} us", us(fs_raw.p50), us(fs_raw.p99)),
    ));
    for (store, stats) in [("MemoryStore", &mem), ("FileStore no fsync", &fil)] {
        rows.push(Row::info(
            &format!("ratio vault/raw p50 / p99, {store}"),
            format!(
                "{:.2}x / {:.2}x",
                stats.p50.as_secs_f64() / raw.p50.as_secs_f64(),
                stats.p99.as_secs_f64() / raw.p99.as_secs_f64()
            ),
        ));
    }

    // 3. Open a vault of 10k answers, built by one record() per answer (one Automerge change
    //    each, maintained as a client does when idle) and, for comparison, by a single import.
    let started = Instant::now();
    let mut big = Vault::create(MemoryStore::new(), &pass(), kdf()).unwrap();
    fill(&mut big, 0, sizes.open_answers);
    let by_records = big.store().clone();
    let mut imported = Vault::create(MemoryStore::new(), &pass(), kdf()).unwrap();
    // The same answers in a second vault: an export of another vault, taken on purpose.
    imported
        .import_with(&big.export(), &ImportOptions::from_other_vault(), T0)
        .unwrap();
    let by_import = imported.store().clone();
    drop((big, imported));
    let stored: usize = by_records.blobs().map(<[u8]>::len).sum();
    println!(
        "setup: vaults of {} answers built in {:.2} s; {} chunks, {:.2} MB stored",
        sizes.open_answers,
        started.elapsed().as_secs_f64(),
        by_records.list(&ns).unwrap().len(),
        stored as f64 / 1e6
    );
    let opened = Vault::open(by_records.clone(), &pass()).unwrap();
    let start = Instant::now();
    let listing = opened.list(None);
    let list_took = start.elapsed();
    assert_eq!(listing.responses.len() as u64, sizes.open_answers);
    drop(opened);

    let pending = by_records.list(&ns).unwrap().len() as u64 - 1;
    let (per_chunk, at_once) = raw_load(sizes.open_answers, pending, value_len);
    rows.push(Row::info(
        &format!(
            "raw automerge load, 1 snapshot + {pending} incrementals: per chunk / concatenated"
        ),
        format!("{:.1} / {:.1} ms", ms(per_chunk), ms(at_once)),
    ));
    let open = manual_opens(&by_records, sizes.opens);
    let open_import = manual_opens(&by_import, sizes.opens);
    criterion_open(&mut c, "10k-answers-cheap-kdf", &by_records, 10);
    let what = format!("open {} answers, cheap KDF", sizes.open_answers);
    rows.extend(Row::budgets_ms(
        &what,
        [("mean", open.mean), ("p50", open.p50)],
        100.0,
    ));
    rows.push(Row::info(
        &format!("{what}, built by one import: mean / p50"),
        format!(
            "{:.1} / {:.1} ms",
            ms(open_import.mean),
            ms(open_import.p50)
        ),
    ));
    rows.push(Row::info(
        &format!(
            "list (decrypt) all {} answers after open",
            sizes.open_answers
        ),
        format!("{:.1} ms", ms(list_took)),
    ));

    // 4. Unlock at the default Argon2id parameters.
    let empty = Vault::create(MemoryStore::new(), &pass(), KdfParams::DEFAULT)
        .unwrap()
        .store()
        .clone();
    let unlock = manual_opens(&empty, sizes.unlocks);
    criterion_open(&mut c, "unlock-default-kdf", &empty, 10);
    rows.push(Row::info(
        "unlock (open empty vault), Argon2id 64 MiB t=3 p=4: mean / p50",
        format!("{:.1} / {:.1} ms", ms(unlock.mean), ms(unlock.p50)),
    ));
    rows.push(Row::budget(
        "unlock mean (native; budget is the browser's)",
        ms(unlock.mean),
        "ms",
        250.0,
    ));

    c.final_summary();
    let title = if test_mode() {
        "vault budgets (TEST MODE: tiny sizes, figures meaningless)"
    } else {
        "vault budgets"
    };
    print_table(title, &rows);
}

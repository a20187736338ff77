//! What a script may build: a bound on the memory the process holds and on how deeply
//! arrays and maps nest, both at a cost that does not grow with the size of a value per
//! operation.
//!
//! Why not Rhai's own limits (`set_max_array_size` and friends): with any of them set, Rhai
//! measures the *whole* value after every call that mutates it, so `a.push(x)` in a loop
//! is quadratic (20k/40k/80k pushes: 0.39/0.91/3.76 s). And Rhai never bounds nesting:
//! cloning, dropping, printing or comparing a value recurses once per level, so
//! `a = [a]` 20,000 times overflowed the stack and aborted the process.
//!
//! Here instead:
//! - **Memory**: the process's global allocator counts the bytes in use (one relaxed
//!   atomic add per allocation); the engine's progress hook compares it with
//!   [`MAX_MEMORY`] at every operation (one load), and stops the script with a script
//!   error naming the line. The few built-in functions that allocate a size given as a
//!   number in one call (`pad`, `blob`) are checked before they allocate
//!   ([`register_guards`]).
//! - **Nesting**: every variable access (the engine's `on_var` hook) walks the variable's
//!   value and refuses it when it nests more than [`MAX_DEPTH`] levels. The walks are paid
//!   for by a budget that grows by [`CREDIT_PER_ACCESS`] nodes per access, so their total
//!   cost is at most that many nodes per access, whatever the sizes of the values; a value
//!   too large for the budget is walked later, once enough has accrued. A value can only
//!   grow one level per operation, and it is read through a variable to be wrapped again,
//!   so it is caught within a few levels of the bound (a level of a very wide value may go
//!   unseen for about `its size / CREDIT_PER_ACCESS` accesses).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rhai::{
    Array, Blob, Dynamic, Engine, EvalAltResult, FnPtr, ImmutableString, Map, Position, INT,
};

/// Bytes of heap the process may hold while a script runs (the script's values are
/// nearly all of it). A million-element array of numbers takes about 16 MiB.
pub const MAX_MEMORY: usize = 512 * 1024 * 1024;

/// How deeply arrays, maps and curried function pointers may nest in one value. Driver
/// results nest 3 or 4 levels.
pub const MAX_DEPTH: usize = 128;

/// Nodes of a value the nesting walks may visit per variable access, on average.
pub const CREDIT_PER_ACCESS: u64 = 16;

/// The stack of the script thread. A value built without passing through a variable (a
/// function returning `[[…f(n - 1)…]]`) escapes the nesting check, but is bounded by the
/// call depth (64) times what one expression may nest (about 16): about 1,000 levels,
/// which printing or dropping needs a few MiB of stack for in a debug build.
pub const SCRIPT_STACK: usize = 64 * 1024 * 1024;

/// The global allocator: the system's, counting the bytes in use.
pub struct CountingAlloc;

static IN_USE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; the counter has no effect on
// the memory handed out.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            IN_USE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            IN_USE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded; `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded; `ptr` was allocated by `System` with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                IN_USE.fetch_add(new_size - layout.size(), Ordering::Relaxed);
            } else {
                IN_USE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Bytes of heap the process holds now.
pub fn in_use() -> usize {
    IN_USE.load(Ordering::Relaxed)
}

/// The message of a script stopped by [`MAX_MEMORY`] (also the progress hook's token).
pub fn memory_message() -> String {
    format!(
        "the script holds too much memory (over {} MiB): a value grows without end?",
        MAX_MEMORY / (1024 * 1024)
    )
}

/// Whether `token` (of a script stopped by the progress hook) is the memory bound's.
pub fn is_memory_stop(token: &Dynamic) -> bool {
    token
        .read_lock::<rhai::ImmutableString>()
        .is_some_and(|t| t.starts_with("the script holds too much memory"))
}

/// The error of a value nested too deeply.
pub fn too_deep(pos: Position) -> Box<EvalAltResult> {
    EvalAltResult::ErrorDataTooLarge(
        format!(
            "a value nests arrays and maps more than {MAX_DEPTH} levels deep (or contains itself): keep data flatter"
        ),
        pos,
    )
    .into()
}

/// Why a walk stopped early.
enum Stop {
    TooDeep,
    Budget,
}

/// Walk `v` (at nesting `level`, 1 for a container at the top), spending one unit of
/// `budget` per node. Recursion depth is at most [`MAX_DEPTH`] + 1.
fn walk(v: &Dynamic, level: usize, budget: &mut u64) -> Result<(), Stop> {
    if v.is_shared() {
        // A value captured by a closure: look inside (a lock held elsewhere: skip it).
        return match v.read_lock::<Dynamic>() {
            Some(inner) if !inner.is_shared() => walk(&inner, level, budget),
            _ => Ok(()),
        };
    }
    let children = |items: &mut dyn Iterator<Item = &Dynamic>, budget: &mut u64| {
        if level > MAX_DEPTH {
            return Err(Stop::TooDeep);
        }
        for c in items {
            if *budget == 0 {
                return Err(Stop::Budget);
            }
            *budget -= 1;
            if c.is_shared() || c.is_array() || c.is_map() || c.is_fnptr() {
                walk(c, level + 1, budget)?;
            }
        }
        Ok(())
    };
    if let Some(a) = v.read_lock::<Array>() {
        children(&mut a.iter(), budget)
    } else if let Some(m) = v.read_lock::<Map>() {
        children(&mut m.values(), budget)
    } else if let Some(f) = v.read_lock::<FnPtr>() {
        children(&mut f.iter_curry(), budget)
    } else {
        Ok(())
    }
}

/// Whether `v` nests more than [`MAX_DEPTH`] levels (a full walk: for values handed to
/// code that recurses over them, such as serialization, whose cost is of the same order).
pub fn nests_too_deep(v: &Dynamic) -> bool {
    let mut budget = u64::MAX;
    matches!(walk(v, 1, &mut budget), Err(Stop::TooDeep))
}

/// The nesting check of variable accesses, with its budget.
pub struct NestingGuard {
    credit: AtomicU64,
    need: AtomicU64,
}

impl Default for NestingGuard {
    fn default() -> Self {
        NestingGuard {
            credit: AtomicU64::new(4096),
            need: AtomicU64::new(0),
        }
    }
}

impl NestingGuard {
    /// Check `v`, just read from a variable: `false` when it nests too deeply (as far as
    /// the budget lets this access see).
    pub fn check(&self, v: &Dynamic) -> bool {
        let credit = self
            .credit
            .fetch_add(CREDIT_PER_ACCESS, Ordering::Relaxed)
            .saturating_add(CREDIT_PER_ACCESS);
        if !(v.is_shared() || v.is_array() || v.is_map() || v.is_fnptr()) {
            return true;
        }
        // A value the budget cannot cover yet waits (the credit keeps growing).
        let width = v
            .read_lock::<Array>()
            .map(|a| a.len() as u64)
            .or_else(|| v.read_lock::<Map>().map(|m| m.len() as u64))
            .unwrap_or(1);
        if credit < width.max(self.need.load(Ordering::Relaxed)) {
            return true;
        }
        let mut budget = credit;
        let r = walk(v, 1, &mut budget);
        let spent = credit - budget;
        self.credit.fetch_sub(spent.min(credit), Ordering::Relaxed);
        match r {
            Ok(()) => {
                self.need.store(0, Ordering::Relaxed);
                true
            }
            Err(Stop::Budget) => {
                self.need.store(spent.saturating_mul(2), Ordering::Relaxed);
                true
            }
            Err(Stop::TooDeep) => false,
        }
    }
}

fn too_much(what: &str) -> Box<EvalAltResult> {
    EvalAltResult::ErrorDataTooLarge(
        format!(
            "{what} would take the script past its memory bound ({} MiB)",
            MAX_MEMORY / (1024 * 1024)
        ),
        Position::NONE,
    )
    .into()
}

/// Refuse `count` items of `item_size` bytes that would take the process over
/// [`MAX_MEMORY`].
fn reserve(count: INT, item_size: usize, what: &str) -> Result<(), Box<EvalAltResult>> {
    let bytes = usize::try_from(count.max(0))
        .ok()
        .and_then(|n| n.checked_mul(item_size));
    match bytes {
        Some(b) if in_use().saturating_add(b) <= MAX_MEMORY => Ok(()),
        _ => Err(too_much(what)),
    }
}

/// The names of the built-in functions [`register_guards`] stands in front of (not part of
/// hascript's own API: `hascript docs` leaves them out).
pub const GUARDED: [&str; 2] = ["pad", "blob"];

/// Guards in front of the built-in functions that allocate a size given as a number in one
/// call (Rhai checks them only against its own size limits, which are not set): the same
/// functions, refused before they allocate when the size would take the process over
/// [`MAX_MEMORY`]. Registered in the engine's global namespace, which is searched before
/// Rhai's standard library.
pub fn register_guards(engine: &mut Engine) {
    let item = std::mem::size_of::<Dynamic>();
    engine.register_fn(
        "pad",
        move |a: &mut Array, len: INT, v: Dynamic| -> Result<(), Box<EvalAltResult>> {
            let Ok(len) = usize::try_from(len) else {
                return Ok(());
            };
            if len > a.len() {
                reserve((len - a.len()) as INT, item, "an array this large")?;
                a.resize(len, v);
            }
            Ok(())
        },
    );
    engine.register_fn(
        "pad",
        |s: &mut ImmutableString, len: INT, c: char| -> Result<(), Box<EvalAltResult>> {
            let have = s.chars().count() as INT;
            if len > have {
                reserve(len - have, c.len_utf8(), "a string this long")?;
                let p = s.make_mut();
                for _ in have..len {
                    p.push(c);
                }
            }
            Ok(())
        },
    );
    engine.register_fn(
        "pad",
        |s: &mut ImmutableString, len: INT, padding: &str| -> Result<(), Box<EvalAltResult>> {
            let mut have = s.chars().count() as INT;
            if len <= have || padding.is_empty() {
                return Ok(());
            }
            reserve(len - have, 4, "a string this long")?;
            let p = s.make_mut();
            let plen = padding.chars().count() as INT;
            while have < len {
                if have + plen <= len {
                    p.push_str(padding);
                    have += plen;
                } else {
                    p.extend(padding.chars().take((len - have) as usize));
                    have = len;
                }
            }
            Ok(())
        },
    );
    engine.register_fn(
        "pad",
        |b: &mut Blob, len: INT, value: INT| -> Result<(), Box<EvalAltResult>> {
            let Ok(len) = usize::try_from(len) else {
                return Ok(());
            };
            if len > b.len() {
                reserve((len - b.len()) as INT, 1, "a BLOB this large")?;
                b.resize(len, (value & 0xff) as u8);
            }
            Ok(())
        },
    );
    let blob = |len: INT, value: INT| -> Result<Blob, Box<EvalAltResult>> {
        if len <= 0 {
            return Ok(Blob::new());
        }
        reserve(len, 1, "a BLOB this large")?;
        Ok(vec![(value & 0xff) as u8; len as usize])
    };
    engine.register_fn("blob", move |len: INT| blob(len, 0));
    engine.register_fn("blob", blob);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> Dynamic {
        let mut v = Dynamic::from_array(Array::new());
        for _ in 1..levels {
            v = Dynamic::from_array(vec![v]);
        }
        v
    }

    #[test]
    fn the_bound_is_exact() {
        assert!(!nests_too_deep(&nested(MAX_DEPTH)));
        assert!(nests_too_deep(&nested(MAX_DEPTH + 1)));
        assert!(!nests_too_deep(&Dynamic::from(42_i64)));
    }

    #[test]
    fn a_deep_part_of_a_wide_value_is_found_once_the_budget_covers_it() {
        let mut wide: Array = (0..100_000_i64).map(Dynamic::from).collect();
        wide.push(nested(MAX_DEPTH + 5));
        let v = Dynamic::from_array(wide);
        let guard = NestingGuard::default();
        let accesses = (0..1_000_000)
            .position(|_| !guard.check(&v))
            .unwrap_or_else(|| panic!("never found"));
        // About its size / CREDIT_PER_ACCESS accesses (one walk paid for, at most two).
        assert!(
            accesses as u64 <= 3 * 100_200 / CREDIT_PER_ACCESS,
            "{accesses} accesses"
        );
    }

    #[test]
    fn the_allocator_counts_what_is_held() {
        // Process-wide (other tests allocate too): at least what this one holds.
        let big = vec![1u8; 64 * 1024 * 1024];
        assert!(in_use() >= 64 * 1024 * 1024, "{}", in_use());
        assert_eq!(big.len(), 64 * 1024 * 1024);
    }
}

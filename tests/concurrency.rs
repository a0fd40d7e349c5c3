//! Steps running concurrently inside a pipeline (join_all, spawned tasks)
//! record into the right run and fire their own hooks exactly once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use hookflow::{current, pipeline, step, HookContext, Run};

static STARTS: AtomicUsize = AtomicUsize::new(0);
static SUCCESSES: AtomicUsize = AtomicUsize::new(0);
static FAILURES: AtomicUsize = AtomicUsize::new(0);
static FINISHES: AtomicUsize = AtomicUsize::new(0);
static RUN_FAILURES: Mutex<Vec<usize>> = Mutex::new(Vec::new());
static SEEN: Mutex<Vec<(u32, bool)>> = Mutex::new(Vec::new());

fn count(counter: &'static AtomicUsize) -> impl Fn() + Send + Sync + 'static {
    move || {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

fn run_failed(ctx: &HookContext) {
    RUN_FAILURES.lock().unwrap().push(ctx.failed_steps().len());
}

#[step(on_start = count(&STARTS), on_success = count(&SUCCESSES), on_failure = count(&FAILURES), on_finish = count(&FINISHES))]
async fn work(i: u32) -> anyhow::Result<u32> {
    tokio::task::yield_now().await;
    anyhow::ensure!(i.is_multiple_of(2), "odd {i}");
    Ok(i)
}

#[pipeline(on_failure = run_failed)]
async fn ten_thousand() -> anyhow::Result<u64> {
    let results = futures::future::join_all((0..10_000).map(work)).await;
    let mut sum = 0u64;
    let mut errors = 0;
    for r in results {
        match r {
            Ok(v) => sum += v as u64,
            Err(_) => errors += 1,
        }
    }
    anyhow::ensure!(errors == 0, "{errors} steps failed");
    Ok(sum)
}

#[tokio::test]
async fn ten_thousand_concurrent_steps_fire_each_hook_exactly_once() {
    let report = Run::new().execute_async(ten_thousand()).await;
    let err = report.output().as_ref().unwrap_err();
    assert_eq!(err.message(), "5000 steps failed");
    assert_eq!(STARTS.load(Ordering::Relaxed), 10_000);
    assert_eq!(SUCCESSES.load(Ordering::Relaxed), 5_000);
    assert_eq!(FAILURES.load(Ordering::Relaxed), 5_000);
    assert_eq!(FINISHES.load(Ordering::Relaxed), 10_000);
    assert_eq!(*RUN_FAILURES.lock().unwrap(), [5_000]);
    let failed = report.failed_steps();
    assert_eq!(failed.len(), 5_000);
    let mut odd: Vec<u32> = failed
        .iter()
        .map(|f| f.message().trim_start_matches("odd ").parse().unwrap())
        .collect();
    odd.sort_unstable();
    assert_eq!(
        odd,
        (0..10_000u32)
            .filter(|i| !i.is_multiple_of(2))
            .collect::<Vec<_>>()
    );
    // on_start, on_success or on_failure, on_finish per step; the run's on_failure.
    assert_eq!(report.hook_outcomes().len(), 3 * 10_000 + 1);
}

fn seen(ctx: &HookContext) {
    let attempt = ctx.attempt();
    SEEN.lock().unwrap().push((attempt, ctx.run_id().is_some()));
}

#[step(on_success = seen)]
async fn spawned_work(i: u32) -> u32 {
    let ctx = current().expect("the step is current in its task");
    assert_eq!(ctx.pipeline_name(), Some("fan_out"));
    tokio::task::yield_now().await;
    i
}

#[pipeline]
async fn fan_out() -> anyhow::Result<(u32, uuid_like::RunId)> {
    let run_id = current().unwrap().run_id().unwrap();
    let handles: Vec<_> = (0..200)
        .map(|i| {
            hookflow::spawn(async move {
                // The spawned task belongs to the run.
                assert_eq!(current().unwrap().run_id(), Some(run_id));
                spawned_work(i).await
            })
        })
        .collect();
    let mut sum = 0;
    for h in handles {
        sum += h.await??;
    }
    Ok((sum, uuid_like::RunId(run_id.to_string())))
}

mod uuid_like {
    #[derive(Debug, PartialEq)]
    pub struct RunId(pub String);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn spawned_tasks_attribute_their_steps_to_the_run() {
    let report = Run::new().execute_async(fan_out()).await;
    let (sum, run_id) = report.output().as_ref().unwrap();
    assert_eq!(*sum, (0..200).sum::<u32>());
    assert_eq!(run_id.0, report.run_id().unwrap().to_string());
    let outcomes = report.hook_outcomes();
    assert_eq!(
        outcomes.len(),
        200,
        "each step's hook recorded once, in this run"
    );
    let seen = SEEN.lock().unwrap();
    assert_eq!(seen.len(), 200);
    assert!(seen.iter().all(|&(attempt, in_run)| attempt == 1 && in_run));
}

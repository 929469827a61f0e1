//! The thread pool the analysis runs on (loading, detectors, report writing).

/// Stack size of the analysis threads. Syntax trees are walked recursively (scope resolution,
/// visitors, dropping), so a deeply nested literal needs a deep stack;
/// [`MAX_NESTING`](crate::files::MAX_NESTING) bounds what is parsed at all. The memory is only
/// reserved, not committed.
pub(crate) const STACK_SIZE: usize = 256 * 1024 * 1024;

/// The thread pool the analysis runs on: rayon's default size, with deep stacks.
pub(crate) fn pool() -> &'static rayon::ThreadPool {
    static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(STACK_SIZE)
            .thread_name(|i| format!("analyze-{i}"))
            .build()
            .unwrap_or_else(|_| {
                // Threads could not be started with deep stacks: fall back to rayon's defaults.
                rayon::ThreadPoolBuilder::new()
                    .build()
                    .expect("a thread pool")
            })
    })
}

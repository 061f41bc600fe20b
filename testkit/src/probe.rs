//! What a process holds, read from /proc (Linux): thread names, open descriptors and
//! resident memory. For leak checks in tests and soak runs; 0 where /proc is unavailable.

/// Threads of this process whose name (`/proc/self/task/*/comm`) satisfies `pred`.
pub fn threads_where(pred: impl Fn(&str) -> bool) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    dir.filter_map(|e| e.ok())
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm"))
                .map(|c| pred(c.trim()))
                .unwrap_or(false)
        })
        .count()
}

/// Threads of this process whose name starts with `prefix`.
pub fn threads_named(prefix: &str) -> usize {
    threads_where(|name| name.starts_with(prefix))
}

/// CPU time (user + system, in clock ticks, usually 10 ms) of the threads of this process
/// named `name`, summed; 0 where /proc is unavailable.
pub fn thread_cpu_ticks(name: &str) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    dir.filter_map(|e| e.ok())
        .filter(|e| std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == name))
        .map(|e| std::fs::read_to_string(e.path().join("stat")).map_or(0, |s| stat_cpu_ticks(&s)))
        .sum()
}

/// CPU time (user + system, in clock ticks) of the calling thread.
pub fn current_thread_cpu_ticks() -> u64 {
    std::fs::read_to_string("/proc/thread-self/stat").map_or(0, |s| stat_cpu_ticks(&s))
}

/// `utime + stime` of a `/proc/*/stat` line (fields 14 and 15, counted after the `)` that
/// ends the command name, which may hold spaces).
fn stat_cpu_ticks(stat: &str) -> u64 {
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // After ")": state is field 3, so utime (14) and stime (15) are at 11 and 12.
    get(11) + get(12)
}

/// Resident set size of this process in KiB (`VmRSS` of /proc/self/status).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Open file descriptors of this process (entries of /proc/self/fd).
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// What each of this process's open file descriptors is (`3 socket:[1234]`,
/// `7 anon_inode:[eventpoll]`, ...), sorted: for the message of a failed leak check.
pub fn fd_targets() -> Vec<String> {
    let mut out: Vec<(u32, String)> = std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.filter_map(|e| {
                let e = e.ok()?;
                let n: u32 = e.file_name().to_str()?.parse().ok()?;
                let target = std::fs::read_link(e.path()).ok()?;
                Some((n, target.display().to_string()))
            })
            .collect()
        })
        .unwrap_or_default();
    out.sort();
    out.into_iter().map(|(n, t)| format!("{n} {t}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_this_process() {
        let handle = std::thread::Builder::new()
            .name("probe-test-xyz".into())
            .spawn(|| std::thread::sleep(std::time::Duration::from_millis(300)))
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(threads_named("probe-test-xyz"), 1);
        assert!(rss_kib() > 0);
        assert!(fd_count() >= 3);
        assert_eq!(
            stat_cpu_ticks("1 (a b) S 0 0 0 0 0 0 0 0 0 0 7 5 0 0"),
            12,
            "utime + stime after a name with a space"
        );
        handle.join().unwrap();
    }
}

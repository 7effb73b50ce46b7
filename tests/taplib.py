"""The TAP helpers of the Python test scripts: numbered ok/not ok lines, SKIPs, # notes and the
final plan. Standard library only; a script imports it with its own directory's parent on
sys.path (tests/), so it runs the same from meson and by hand.
"""

count = 0
failed = 0


def check(cond, what):
    """One numbered test line; returns cond so a caller can go on only when it held."""
    global count, failed
    count += 1
    if not cond:
        failed += 1
    print(f"{'ok' if cond else 'not ok'} {count} - {what}", flush=True)
    return cond


def skip(what, why):
    global count
    count += 1
    print(f"ok {count} - {what} # SKIP {why}", flush=True)


def note(msg):
    for line in str(msg).splitlines():
        print(f"# {line}", flush=True)


def group(test, *args):
    """Runs one group of checks, test(*args); an exception it raises is one failed check, so one
    broken group does not hide the others."""
    try:
        test(*args)
    except Exception as e:
        check(False, f"{test.__name__}: {type(e).__name__}: {e}")


def plan():
    """The plan line, after the tests: 1..N."""
    print(f"1..{count}", flush=True)


def done(need_tests=True):
    """Prints the plan and returns the exit status: 1 when a test failed, or (need_tests) when
    none ran at all."""
    plan()
    return 0 if failed == 0 and (count > 0 or not need_tests) else 1

"""How a flood of anonymous logins affects a logged-in person: the median and 95th percentile of
`GET /api/v1/rounds` for a logged-in commune, alone and while 40 clients keep trying random user
names from random addresses (so that no address or account is throttled: every try costs a
password check). Run against a server started with --demo:

    python3 tests/py/login_flood.py http://127.0.0.1:8080
"""
import json, random, statistics, sys, threading, time, urllib.request, http.cookiejar
BASE = sys.argv[1]
def login(user, pw, xff=None):
    jar = http.cookiejar.CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    req = urllib.request.Request(BASE + "/api/v1/login", data=json.dumps({"username": user, "password": pw}).encode(),
                                 headers={"Content-Type": "application/json", **({"X-Forwarded-For": xff} if xff else {})})
    try:
        op.open(req, timeout=30).read()
    except urllib.error.HTTPError as e:
        pass
    return op
user = login("12475", "demo")
def probe(n=60):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        user.open(BASE + "/api/v1/rounds", timeout=60).read()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]
base = probe()
stop = False
count = [0]
def flood():
    while not stop:
        login("khong-co-%d" % random.randint(0, 10**9), "sai", "10.%d.%d.%d" % (random.randint(0,255), random.randint(0,255), random.randint(0,255)))
        count[0] += 1
threads = [threading.Thread(target=flood, daemon=True) for _ in range(40)]
for t in threads: t.start()
time.sleep(2)
during = probe()
stop = True
print("logged-in GET /api/v1/rounds: alone median %.1f ms p95 %.1f ms; during a flood of 40 anonymous login clients median %.1f ms p95 %.1f ms (%d logins attempted)" % (base[0], base[1], during[0], during[1], count[0]))

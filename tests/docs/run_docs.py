#!/usr/bin/env python3
"""Docs as tests: every curl example of README.md and docs/*.md runs against
a fresh demo, in document order, with the real curl.

Usage: run_docs.py RAPPORT_BINARY SOURCE_DIR [FILE.md ...]

Starts `rapport demo` (300 customers, --end-date today) on 127.0.0.1:0,
stops it, creates a Segment source (for $WRITE_KEY), and starts it again,
checking that the second run prints the same demo key. Then runs, in a
scratch directory holding the files the docs name (offers.dmn is the
demo's own src/demo/offers.dmn, named from the repository's root), each `curl` command of each fenced code
block with $RAPPORT, $URL and $KEY set, http://127.0.0.1:8080 and
http://localhost:8080 replaced by the server's URL. A command passes when
curl exits 0 and the server answers 2xx, and a segment preview finds
someone (an example whose condition names a value the demo lacks, such as
region "North", answers 200 with size 0).

Comments in the markdown, on the last line before a block's fence:
  <!-- docs-test: skip (reason) -->        the block is not run
  <!-- docs-test: capture NAME=/pointer --> after each command of the block,
      NAME is set to that JSON pointer of the answer (when it has it), for
      later examples that name $NAME.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# Today (UTC), passed explicitly: the server's clock is the real one, so a
# fixed end date would leave revenue90d empty 90 days later and fail the
# examples that use it. The data is the same for the same day.
END_DATE = time.strftime("%Y-%m-%d", time.gmtime())
CUSTOMERS = "300"
HOSTS = ("http://127.0.0.1:8080", "http://localhost:8080")
DIRECTIVE = re.compile(r"<!--\s*docs-test:\s*(\w+)\s*(.*?)\s*-->")


def blocks(path):
    """(line number, commands, directives) of each fenced block."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i = [], 0
    while i < len(lines):
        if not lines[i].startswith("```"):
            i += 1
            continue
        directives = []
        j = i - 1
        while j >= 0 and lines[j].strip() == "":
            j -= 1
        while j >= 0 and DIRECTIVE.search(lines[j]):
            directives.extend(DIRECTIVE.findall(lines[j]))
            j -= 1
        start, i = i + 1, i + 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1
        out.append((start, commands(body, start), directives))
    return out


def commands(body, first_line):
    """The curl commands of a block: a line starting with curl (or `$ curl`),
    with its continuations (a trailing backslash, or an open quote)."""
    out, k = [], 0
    while k < len(body):
        line = body[k].lstrip()
        if line.startswith("$ "):
            line = line[2:]
        if not re.match(r"curl\s", line):
            k += 1
            continue
        number, text = first_line + k, line
        while (text.endswith("\\") or open_quote(text)) and k + 1 < len(body):
            k += 1
            text += "\n" + body[k]
        out.append((number, text))
        k += 1
    return out


def open_quote(text):
    quote = None
    escaped = False
    for c in text:
        if quote == "'":
            if c == "'":
                quote = None
        elif escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif quote == '"':
            if c == '"':
                quote = None
        elif c in "'\"":
            quote = c
    return quote is not None


def pointer(doc, ptr):
    for part in ptr.lstrip("/").split("/"):
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return None
    return doc if isinstance(doc, (str, int, float)) else None


class Demo:
    def __init__(self, rapport, data, log):
        self.log = log
        self.proc = subprocess.Popen(
            [rapport, "demo", "--data", data, "--customers", CUSTOMERS, "--end-date", END_DATE,
             "--listen", "127.0.0.1:0"], stdout=open(log, "w"), stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        self.url = self.key = None
        while time.time() < deadline:
            text = open(log, encoding="utf-8").read()
            url = re.search(r"serving .* at (http://127\.0\.0\.1:\d+)", text)
            key = re.search(r"^(rpk_\S+)$", text, re.M)
            if url and key and "press Ctrl-C" in text:
                self.url, self.key = url.group(1), key.group(1)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        sys.exit("rapport demo did not start:\n" + open(log, encoding="utf-8").read())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def main():
    rapport, src = sys.argv[1], os.path.abspath(sys.argv[2])
    docs = sys.argv[3:] or ["README.md"] + sorted(
        os.path.join("docs", f) for f in os.listdir(os.path.join(src, "docs")) if f.endswith(".md"))
    tmp = tempfile.mkdtemp(prefix="rapport-docs-")
    demo = None
    try:
        data = os.path.join(tmp, "demo-data")
        first = Demo(rapport, data, os.path.join(tmp, "demo-1.log"))
        first.stop()
        write_key = subprocess.run([rapport, "sources", "create", "website", "--data", data], check=True,
                                   capture_output=True, text=True).stdout.strip().split("\n")[-1]
        demo = Demo(rapport, data, os.path.join(tmp, "demo-2.log"))
        if demo.key != first.key:
            sys.exit("a second `rapport demo` printed another key: %s, then %s" % (first.key, demo.key))

        work = os.path.join(tmp, "work")
        os.mkdir(work)
        # The examples run where `make demo` leaves ./demo-data (demo-key, demo-password).
        os.symlink(data, os.path.join(work, "demo-data"))
        os.makedirs(os.path.join(work, "src", "demo"))
        shutil.copy(os.path.join(src, "src", "demo", "offers.dmn"), os.path.join(work, "src", "demo", "offers.dmn"))
        shutil.copy(os.path.join(src, "tests", "docs", "people-model.json"), os.path.join(work, "people-model.json"))
        headers = os.path.join(tmp, "headers")
        env = dict(os.environ, RAPPORT=demo.url, URL=demo.url, KEY=demo.key, WRITE_KEY=write_key,
                   DOCS_HEADERS=headers)
        # Every curl dumps its answer's headers, so the status is known
        # whatever the example does with the body.
        prelude = 'curl() { command curl -sS -D "$DOCS_HEADERS" "$@"; }\n'
        failures, ran, skipped = [], 0, 0
        started = time.time()
        for doc in docs:
            for line, cmds, directives in blocks(os.path.join(src, doc)):
                if any(d == "skip" for d, _ in directives):
                    skipped += len(cmds)
                    continue
                captures = [arg.split("=", 1) for d, arg in directives if d == "capture"]
                for number, cmd in cmds:
                    text = cmd
                    for host in HOSTS:
                        text = text.replace(host, demo.url)
                    if os.path.exists(headers):
                        os.remove(headers)
                    r = subprocess.run(["bash", "-c", prelude + text], cwd=work, env=env, capture_output=True,
                                       text=True, timeout=30)
                    ran += 1
                    statuses = re.findall(r"^HTTP/\S+ (\d{3})", open(headers).read() if os.path.exists(headers)
                                          else "", re.M)
                    status = statuses[-1] if statuses else "none"
                    where = "%s:%d" % (doc, number)
                    if r.returncode != 0 or not status.startswith("2"):
                        failures.append("%s: HTTP %s (curl exit %d)\n  %s\n  %s%s" % (
                            where, status, r.returncode, cmd.replace("\n", "\n  "), r.stdout[:600], r.stderr[:300]))
                        continue
                    try:
                        answer = json.loads(r.stdout)
                    except ValueError:
                        answer = None
                    if "/segments/preview" in text and isinstance(answer, dict) and answer.get("size") == 0:
                        failures.append("%s: the preview finds nobody in the demo\n  %s" % (where, cmd))
                    for name, ptr in captures:
                        value = pointer(answer, ptr)
                        if value is not None:
                            env[name] = str(value)
        if ran == 0:
            failures.append("no curl example found: the extraction is broken")
        print("ran %d curl examples (%d skipped) in %.1f s against %s" % (ran, skipped, time.time() - started,
                                                                      demo.url))
        for f in failures:
            print("FAILED " + f)
        return 1 if failures else 0
    finally:
        if demo:
            demo.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

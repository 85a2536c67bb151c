#!/usr/bin/env python3
"""LayerScope benchmarks: ratios against GNU tar and dive, measured in the same run.

usage: python benchmarks/bench.py --corpus DIR [--dive] [--only index,gzip,ci,cache,export,compare]
                                 [--repeat N] [--debian DEBIAN.docker.tar] [--shared-base B.docker.tar]
(GUI timings: benchmarks/gui_bench.py)

DIR is a folder made by ``shared/corpus/build-corpus.sh --large`` (it holds large/big.docker.tar).
The gzip OCI archive of the same image is made once with skopeo when absent
(large/big.gzip.oci.tar). Each LayerScope figure runs in a fresh subprocess so that its peak RSS is
its own. Every figure but ``cache`` runs without the persistent cache (LAYERSCOPE_CACHE_MAX=0);
``cache`` times ``ci --json`` cold then warm in a temporary cache folder, never the user's. Results
are printed as a table and written to benchmarks/results.json.

``compare`` (asked for by name) times ``diff`` of the large image against a second one that shares
its base layers (``--shared-base``, default DIR/shared/big2.docker.tar), against loading both: made
from the large image's gzip OCI archive with real tools (``skopeo copy oci-archive:… oci:L:big2``,
``umoci insert --image L:big2 DIR /opt/extra``, ``umoci insert --whiteout /opt/new``, ``skopeo copy
oci:L:big2 docker-archive:…``), so its five base layers have the large image's diff_ids.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_timed(cmd: list[str], **kw: object) -> tuple[float, int, subprocess.CompletedProcess[bytes]]:
    """Wall seconds and peak RSS (KiB) of a command, via GNU time's format when available."""
    t0 = time.perf_counter()
    with tempfile.NamedTemporaryFile("r") as tf:
        full = ["/usr/bin/time", "-f", "%M", "-o", tf.name, *cmd] if Path("/usr/bin/time").exists() else cmd
        r = subprocess.run(full, capture_output=True, **kw)  # type: ignore[call-overload]
        wall = time.perf_counter() - t0
        try:
            rss = int(Path(tf.name).read_text().strip().splitlines()[-1])
        except (ValueError, IndexError):
            rss = -1
    return wall, rss, r


def best(n: int, fn):  # type: ignore[no-untyped-def]
    results = [fn() for _ in range(n)]
    return min(results, key=lambda r: r[0])


def extract_members(archive: Path, names: list[str], dest: Path) -> list[Path]:
    """Copy the named members (following symlinks inside the archive) out of a tar."""
    out = []
    with tarfile.open(archive) as t:
        for n in names:
            m = t.getmember(n)
            while m.issym():
                m = t.getmember(os.path.normpath(os.path.join(os.path.dirname(m.name), m.linkname)))
            p = dest / (Path(n).name + f".{len(out)}")
            with t.extractfile(m) as src, open(p, "wb") as dst:  # type: ignore[union-attr]
                shutil.copyfileobj(src, dst, 1 << 20)
            out.append(p)
    return out


def layer_names(archive: Path) -> list[str]:
    with tarfile.open(archive) as t:
        if "manifest.json" in t.getnames():
            return list(json.load(t.extractfile("manifest.json"))[0]["Layers"])  # type: ignore[arg-type]
        idx = json.load(t.extractfile("index.json"))  # type: ignore[arg-type]
        man = json.load(t.extractfile("blobs/sha256/" + idx["manifests"][0]["digest"][7:]))  # type: ignore[arg-type]
        return ["blobs/sha256/" + ly["digest"][7:] for ly in man["layers"]]


def py(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


INDEX = (
    "import sys\n"
    "from layerscope.core.archive.open import open_archive\n"
    "from layerscope.core.layers.index import load_image\n"
    "a = open_archive(sys.argv[1]); idx = load_image(a, a.images[0])\n"
    "print(sum(len(i.entries) for i in idx))"
)


def cache_cold_warm(
    big: Path, repeat: int, tmp: Path
) -> tuple[tuple[float, int], tuple[float, int], list[float], list[float]]:
    """``layerscope ci --json`` with an empty persistent cache, then again with it warm, each in a
    fresh process and a cache folder of its own: best (seconds, peak RSS KiB) of each, and all times."""
    cmd = [sys.executable, "-m", "layerscope.core.cli", "ci", "--json", str(big)]
    cold: list[tuple[float, int]] = []
    warm: list[tuple[float, int]] = []
    for i in range(repeat):
        home = tmp / f"xdg-cache-{i}"
        env = {**os.environ, "XDG_CACHE_HOME": str(home)}
        env.pop("LAYERSCOPE_CACHE_MAX", None)
        c = run_timed(cmd, env=env)
        w = [run_timed(cmd, env=env) for _ in range(2)]
        if c[2].stdout != w[-1][2].stdout:
            raise SystemExit("ci --json differs between a cold and a warm cache")
        cold.append(c[:2])
        warm.extend(r[:2] for r in w)
        shutil.rmtree(home, ignore_errors=True)
    return min(cold), min(warm), [c[0] for c in cold], [w[0] for w in warm]


LAST_GZIP_FILE = (
    "import sys, time\n"
    "from layerscope.core.archive.open import open_archive\n"
    "from layerscope.core.kinds import Compression, EntryType\n"
    "from layerscope.core.layers.content import read_content\n"
    "from layerscope.core.layers.index import load_image\n"
    "a = open_archive(sys.argv[1]); idx = load_image(a, a.images[0])\n"
    "li = max((i for i in idx if i.desc.compression is Compression.GZIP), key=lambda i: i.desc.size)\n"
    "last = [e for e in li.entries if e.type is EntryType.FILE][-1]\n"
    "t = time.perf_counter(); data = read_content(a, li.desc, last); t = time.perf_counter() - t\n"
    "print(li.desc.index, '/' + last.path, len(data), t)"
)


def gzip_cat_warm(gz: Path, repeat: int, tmp: Path) -> dict[str, object]:
    """``layerscope cat`` of the last file of the largest gzip layer with a warm persistent cache (its
    layer indexes and gzip checkpoints made by one first open), in fresh processes, in a temporary
    cache folder: the whole command's seconds, and the file read alone (seconds, in-process)."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp / "xdg-gzip-cat")}
    env.pop("LAYERSCOPE_CACHE_MAX", None)
    first = subprocess.run(py(LAST_GZIP_FILE, str(gz)), env=env, capture_output=True, check=True)
    layer, path, size, _t = first.stdout.split()
    reads = []
    for _ in range(repeat):
        r = subprocess.run(py(LAST_GZIP_FILE, str(gz)), env=env, capture_output=True, check=True)
        reads.append(float(r.stdout.split()[-1]))
    cli = [sys.executable, "-m", "layerscope.core.cli"]
    cmd = [*cli, "cat", "--layer", layer.decode(), str(gz), path.decode()]
    cats = [run_timed(cmd, env=env) for _ in range(repeat)]
    merged = [run_timed([*cli, "cat", str(gz), path.decode()], env=env) for _ in range(repeat)]
    if any(len(c[2].stdout) != int(size) for c in cats):
        raise SystemExit("layerscope cat gave another size than the index")
    shutil.rmtree(tmp / "xdg-gzip-cat", ignore_errors=True)
    return {
        "gzip_cat_file": path.decode(),
        "gzip_cat_s": min(c[0] for c in cats),
        "gzip_cat_all_s": [c[0] for c in cats],
        "gzip_cat_rss_kib": min(c[1] for c in cats),
        "gzip_cat_merged_s": min(c[0] for c in merged),
        "gzip_cat_merged_all_s": [c[0] for c in merged],
        "python_startup_s": min(run_timed([sys.executable, "-c", "pass"])[0] for _ in range(repeat)),
        "gzip_cat_read_s": min(reads),
        "gzip_cat_read_all_s": reads,
    }


def compare_shared_base(a: Path, b: Path, repeat: int, tmp: Path) -> dict[str, object]:
    """``diff A B --json`` with an empty persistent cache and with a warm one, and loading both
    (``ci --json A`` then ``ci --json B``: B's shared layers come from the cache A's load wrote), each
    cold run in a cache folder of its own: best seconds and peak RSS of each, and all times."""
    cli = [sys.executable, "-m", "layerscope.core.cli"]
    diffs: list[tuple[float, int]] = []
    warm: list[tuple[float, int]] = []
    both: list[tuple[float, int]] = []
    for i in range(repeat):
        for kind in ("diff", "both"):
            home = tmp / f"xdg-compare-{kind}-{i}"
            env = {**os.environ, "XDG_CACHE_HOME": str(home)}
            env.pop("LAYERSCOPE_CACHE_MAX", None)
            if kind == "diff":
                d = run_timed([*cli, "diff", "--json", str(a), str(b)], env=env)
                if d[2].returncode != 1:
                    raise SystemExit(f"diff exited {d[2].returncode}: {d[2].stderr.decode()[-400:]}")
                diffs.append(d[:2])
                warm.append(run_timed([*cli, "diff", "--json", str(a), str(b)], env=env)[:2])
            else:
                ra = run_timed([*cli, "ci", "--json", str(a)], env=env)
                rb = run_timed([*cli, "ci", "--json", str(b)], env=env)
                both.append((ra[0] + rb[0], max(ra[1], rb[1])))
            shutil.rmtree(home, ignore_errors=True)
    return {
        "compare_diff_cold_s": min(diffs)[0],
        "compare_diff_cold_rss_kib": min(diffs)[1],
        "compare_diff_warm_s": min(warm)[0],
        "compare_load_both_cold_s": min(both)[0],
        "compare_diff_cold_all_s": [d[0] for d in diffs],
        "compare_load_both_all_s": [x[0] for x in both],
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True, type=Path)
    ap.add_argument("--dive", action="store_true", help="also time dive on the large image (over 25 minutes)")
    ap.add_argument("--only", default="index,gzip,ci,cache,export")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--debian", type=Path, help="the Debian image build-corpus.sh makes (debian/*.docker.tar)"
    )
    ap.add_argument("--shared-base", type=Path, help="an image sharing the large one's base (see compare)")
    args = ap.parse_args()
    os.environ["LAYERSCOPE_CACHE_MAX"] = "0"  # first-open figures; cache_cold_warm sets its own cache
    # measured as installed: compiled modules kept (with this set, a module changed since its .pyc was
    # written is compiled again in every run, ~0.1 s of the warm figures)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    big = args.corpus / "large" / "big.docker.tar"
    if not big.exists():
        print(f"{big} not found: run shared/corpus/build-corpus.sh --large {args.corpus}", file=sys.stderr)
        return 2
    only = set(args.only.split(","))
    results: dict[str, object] = {"machine": f"{os.cpu_count()} CPUs", "image": str(big)}
    rows = []
    with tempfile.TemporaryDirectory(dir=args.corpus) as td:
        tmp = Path(td)
        layers = extract_members(big, layer_names(big), tmp)
        if "index" in only or "ci" in only or "cache" in only:
            tar_t = best(
                args.repeat,
                lambda: run_timed(["bash", "-c", " && ".join(f"tar -tf {p} >/dev/null" for p in layers)]),
            )
            ours = best(args.repeat, lambda: run_timed(py(INDEX, str(big))))
            results["tar_tf_s"] = tar_t[0]
            if "index" in only:
                results["index_s"], results["index_rss_kib"] = ours[0], ours[1]
                rows.append(("index big.docker.tar (plain layers)", ours[0], tar_t[0], "tar -tf", ours[1]))
        if "ci" in only:
            ci = best(
                args.repeat,
                lambda: run_timed(
                    [
                        sys.executable,
                        "-m",
                        "layerscope.core.cli",
                        "ci",
                        "--json",
                        str(big),
                        "--highest-user-wasted-percent",
                        "disabled",
                    ]
                ),
            )
            results["ci_s"], results["ci_rss_kib"] = ci[0], ci[1]
            rows.append(("full analysis (layerscope ci)", ci[0], results["tar_tf_s"], "tar -tf", ci[1]))
            if args.dive:
                dive = shutil.which("dive") or str(Path(sys.executable).parent / "dive")
                d = run_timed([dive, "--source", "docker-archive", str(big), "--ci"])
                results["dive_ci_s"] = d[0]
                rows.append(("full analysis vs dive --ci", ci[0], d[0], "dive", ci[1]))
        if "cache" in only:
            cold, warm, cold_all, warm_all = cache_cold_warm(big, args.repeat, tmp)
            results["ci_cold_cache_s"], results["ci_cold_cache_rss_kib"] = cold
            results["ci_warm_cache_s"], results["ci_warm_cache_rss_kib"] = warm
            results["ci_cold_cache_all_s"], results["ci_warm_cache_all_s"] = cold_all, warm_all
            tar_s = float(results["tar_tf_s"])  # type: ignore[arg-type]
            rows.append(("ci --json, cold persistent cache", cold[0], tar_s, "tar -tf", cold[1]))
            rows.append(("ci --json, warm persistent cache", warm[0], tar_s, "tar -tf", warm[1]))
        if "gzip" in only:
            gz = args.corpus / "large" / "big.gzip.oci.tar"
            if not gz.exists():
                subprocess.run(
                    [
                        "skopeo",
                        "copy",
                        "-q",
                        "--dest-compress",
                        "--dest-compress-format",
                        "gzip",
                        f"docker-archive:{big}",
                        f"oci-archive:{gz}",
                    ],
                    check=True,
                )
            blobs = extract_members(gz, layer_names(gz), tmp)
            tzf = best(
                1, lambda: run_timed(["bash", "-c", " && ".join(f"tar -tzf {p} >/dev/null" for p in blobs)])
            )
            ours = best(args.repeat, lambda: run_timed(py(INDEX, str(gz))))
            results["tar_tzf_s"], results["gzip_index_s"], results["gzip_index_rss_kib"] = (
                tzf[0],
                ours[0],
                ours[1],
            )
            rows.append(("index big.gzip.oci.tar (gzip layers)", ours[0], tzf[0], "tar -tzf", ours[1]))
            cat = gzip_cat_warm(gz, args.repeat, tmp)
            results.update(cat)
            cat_s, read_s, cat_rss = cat["gzip_cat_s"], cat["gzip_cat_read_s"], cat["gzip_cat_rss_kib"]
            rows.append(("cat last file of largest gzip layer, warm", cat_s, tzf[0], "tar -tzf", cat_rss))
            rows.append(
                ("  the same without --layer (merged view)", cat["gzip_cat_merged_s"], tzf[0], "tar -tzf", 0)
            )
            rows.append(("  of which the file's read (in-process)", read_s, tzf[0], "tar -tzf", cat_rss))
            rows.append(("  python -c pass (the floor)", cat["python_startup_s"], tzf[0], "tar -tzf", 0))
        if "export" in only:
            gz = args.corpus / "large" / "big.gzip.oci.tar"
            if not gz.exists():
                subprocess.run(
                    [
                        "skopeo",
                        "copy",
                        "-q",
                        "--dest-compress",
                        "--dest-compress-format",
                        "gzip",
                        f"docker-archive:{big}",
                        f"oci-archive:{gz}",
                    ],
                    check=True,
                )
            layout = tmp / "layout"
            subprocess.run(["skopeo", "copy", "-q", f"oci-archive:{gz}", f"oci:{layout}:big"], check=True)

            def umoci() -> tuple[float, int, subprocess.CompletedProcess[bytes]]:
                shutil.rmtree(tmp / "bundle", ignore_errors=True)
                return run_timed(["umoci", "unpack", "--image", f"{layout}:big", str(tmp / "bundle")])

            def ours(src: Path) -> tuple[float, int, subprocess.CompletedProcess[bytes]]:
                shutil.rmtree(tmp / "out", ignore_errors=True)
                return run_timed(
                    [
                        sys.executable,
                        "-m",
                        "layerscope.core.cli",
                        "export",
                        str(src),
                        "--merged",
                        "--to",
                        str(tmp / "out"),
                    ]
                )

            u = best(1, umoci)
            shutil.rmtree(tmp / "bundle", ignore_errors=True)
            for name, src in (("docker.tar", big), ("gzip.oci.tar", gz)):
                o = best(1, lambda s=src: ours(s))
                results[f"export_{name}_s"], results[f"export_{name}_rss_kib"] = o[0], o[1]
                rows.append((f"merged export of big.{name} to a folder", o[0], u[0], "umoci", o[1]))
            results["umoci_unpack_s"] = u[0]
        if "compare" in only:
            other = args.shared_base or args.corpus / "shared" / "big2.docker.tar"
            if not other.exists():
                print(f"{other} not found (see the module docstring: compare)", file=sys.stderr)
                return 2
            c = compare_shared_base(big, other, args.repeat, tmp)
            results.update(c)
            both_s = float(c["compare_load_both_cold_s"])  # type: ignore[arg-type]
            cold_s, cold_rss = float(c["compare_diff_cold_s"]), int(c["compare_diff_cold_rss_kib"])  # type: ignore[arg-type]
            rows.append(("diff A B (shared base), cold cache", cold_s, both_s, "ci A+B", cold_rss))
            rows.append(
                ("diff A B (shared base), warm cache", float(c["compare_diff_warm_s"]), both_s, "ci A+B", 0)
            )  # type: ignore[arg-type]
    if args.debian is not None:
        dive = shutil.which("dive") or str(Path(sys.executable).parent / "dive")
        d = best(
            args.repeat, lambda: run_timed([dive, "--source", "docker-archive", str(args.debian), "--ci"])
        )
        o = best(
            args.repeat,
            lambda: run_timed([sys.executable, "-m", "layerscope.core.cli", "ci", str(args.debian)]),
        )
        results["debian_dive_s"], results["debian_ci_s"] = d[0], o[0]
        rows.append((f"layerscope ci vs dive --ci ({args.debian.name})", o[0], d[0], "dive", o[1]))
    print(f"{'benchmark':<40} {'ours s':>8} {'peer s':>8} {'ratio':>7}  peer      peak RSS")
    for name, ours_s, peer_s, peer, rss in rows:
        print(
            f"{name:<40} {ours_s:>8.2f} {peer_s:>8.2f} {ours_s / peer_s:>6.2f}x  {peer:<9}",
            f"{rss / 1024:>6.0f} MB",
        )
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

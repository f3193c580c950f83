#!/bin/sh
# fetch-linux-source.sh SERIES
#
# Puts Debian's linux-source-SERIES tarball into $VTCIO_CACHE/linux-source/ (default
# .cache/linux-source/) for a kernel series that the host's Debian release does not ship, e.g. 7.2
# from sid. setup/kernel-sources.txt says which suite each such series comes from.
#
# The machine stays what it is: apt runs with a private configuration in a temporary directory
# (its own sources entry for that one suite, its own package lists, cache and an empty dpkg
# status), `apt-get download` fetches the one package, and `dpkg-deb` unpacks only the tarball.
# Nothing is installed, and the system's apt sources, lists and preferences are never touched, so
# no later `apt-get upgrade` can pull anything from that suite. Root is not needed. apt checks the
# package against the suite's signed index (debian-archive-keyring), as for any install.
#
# Writes, next to each other:
#   linux-source-SERIES.tar.xz    the kernel sources, as the package ships them
#   linux-source-SERIES.fetched   package=, version= (Debian's, e.g. 7.2.13-1), suite=,
#                                 deb_sha256=, fetched= (UTC): written last, so a tarball without
#                                 it is an interrupted fetch
# Idempotent: when both are there it only says so. Remove them to fetch again (e.g. when the suite
# moved on to a newer upload). Concurrent callers wait for one another (flock).
#
# The mirror is the one the host's apt sources already use for Debian (the first "deb" entry of a
# Debian release); set VTCIO_DEBIAN_MIRROR to choose another. (VTCIO_APT_ETC, default /etc/apt,
# is where those sources are read; tests point it elsewhere.)
#
# Exit status: 0 done (or already there), 1 the fetch failed, 2 bad usage or unknown series.
set -eu

say() {
  printf 'fetch-linux-source: %s\n' "$*" >&2
}

die() {
  say "$2"
  exit "$1"
}

[ $# -eq 1 ] || die 2 "usage: fetch-linux-source.sh SERIES (e.g. 7.2)"
series=$1
root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd -P)
table=$root/setup/kernel-sources.txt
[ -r "$table" ] || die 2 "cannot read $table"

# "7.2 sid" -> sid; nothing for a series the table does not list.
suite=$(awk -v s="$series" '{ sub(/#.*/, "") } $1 == s { print $2; exit }' "$table")
if [ -z "$suite" ]; then
  known=$(awk '{ sub(/#.*/, "") } NF >= 2 { printf "%s%s", sep, $1; sep = ", " }' "$table")
  die 2 "kernel $series is not fetched from another suite (setup/kernel-sources.txt lists: ${known:-none}); bookworm's series come from setup/packages.txt"
fi

pkg=linux-source-$series
dest=${VTCIO_CACHE:-$root/.cache}/linux-source
tarball=$dest/$pkg.tar.xz
record=$dest/$pkg.fetched
mkdir -p "$dest"

if command -v flock >/dev/null 2>&1; then
  exec 8>"$dest/.$pkg.lock"
  flock 8
fi

recorded_version() {
  sed -n 's/^version=//p' "$record"
}

if [ -s "$tarball" ] && [ -s "$record" ]; then
  say "$pkg $(recorded_version) is already in $dest"
  exit 0
fi

for tool in apt-get dpkg-deb sha256sum tar; do
  command -v "$tool" >/dev/null 2>&1 || die 1 "$tool is missing: fetching $pkg needs Debian's apt and dpkg"
done
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || die 1 "no $keyring: apt-get install debian-archive-keyring"

# The Debian mirror of the host's apt sources: deb822 files first, then one-line sources.list.
# Only entries for a Debian release count (not -security, -updates or other archives).
debian_mirror() {
  releases='^(bookworm|trixie|forky|sid|stable|testing|unstable|oldstable)$'
  for f in "$apt_etc"/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    awk -v rel="$releases" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && uri != "") {
          n = split(suites, s, " ")
          for (i = 1; i <= n; i++) if (s[i] ~ rel) { print uri; found = 1; exit }
        }
        types = ""; uri = ""; suites = ""
      }
      /^[ \t]*$/ { flush(); next }
      /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
      /^URIs:/ { uri = $2 }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
      END { if (!found) flush() }
    ' "$f"
  done
  for f in "$apt_etc"/sources.list "$apt_etc"/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    awk -v rel="$releases" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) ~ rel) { print $i; exit }
      }
    ' "$f"
  done
}

apt_etc=${VTCIO_APT_ETC:-/etc/apt}
mirror=${VTCIO_DEBIAN_MIRROR:-$(debian_mirror | head -n 1)}
[ -n "$mirror" ] || die 1 "no Debian mirror in $apt_etc/sources.list*: set VTCIO_DEBIAN_MIRROR to a Debian archive URI"

work=$(mktemp -d "$dest/.fetch-$series.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$work/sources" "$work/preferences" "$work/lists/partial" \
  "$work/cache/archives/partial" "$work/deb" "$work/x"
: >"$work/status"
printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
  "$mirror" "$suite" "$keyring" >"$work/sources/vtcio-$suite.sources"
# apt drops privileges to this user for downloads; the work directory belongs to the caller.
chmod 0755 "$work"

# A private apt: every path it reads or writes, except its configuration and trusted keys, is in
# $work. The host's apt.conf.d still applies (proxies, for instance).
set -- \
  -o "Dir::Etc::SourceList=/dev/null" \
  -o "Dir::Etc::SourceParts=$work/sources" \
  -o "Dir::Etc::Preferences=/dev/null" \
  -o "Dir::Etc::PreferencesParts=$work/preferences" \
  -o "Dir::State::Lists=$work/lists" \
  -o "Dir::State::Status=$work/status" \
  -o "Dir::Cache=$work/cache" \
  -o "Acquire::Languages=none" \
  -o "APT::Sandbox::User=$(id -un)"

say "fetching $pkg from $suite at $mirror (private apt configuration in $work)"
apt-get -q "$@" -o APT::Update::Error-Mode=any update >"$work/update.log" 2>&1 || {
  cat "$work/update.log" >&2
  die 1 "apt-get update of $suite failed: see the lines above"
}
(cd "$work/deb" && apt-get -q "$@" download "$pkg") >"$work/download.log" 2>&1 || {
  cat "$work/download.log" >&2
  die 1 "apt-get download $pkg from $suite failed: see the lines above"
}

deb=$(find "$work/deb" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
[ -n "$deb" ] || die 1 "apt-get download left no ${pkg}_*.deb"
[ "$(dpkg-deb -f "$deb" Package)" = "$pkg" ] || die 1 "$deb is not the package $pkg"
version=$(dpkg-deb -f "$deb" Version)
sha=$(sha256sum "$deb" | cut -d ' ' -f 1)

dpkg-deb --fsys-tarfile "$deb" | tar -xf - -C "$work/x" "./usr/src/$pkg.tar.xz" ||
  die 1 "$deb holds no usr/src/$pkg.tar.xz"
printf 'package=%s\nversion=%s\nsuite=%s\ndeb_sha256=%s\nfetched=%s\n' \
  "$pkg" "$version" "$suite" "$sha" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$work/record"

# Same file system: each rename is atomic; the record comes last.
rm -f "$record"
mv -f "$work/x/usr/src/$pkg.tar.xz" "$tarball"
mv -f "$work/record" "$record"
say "$pkg $version from $suite is in $dest"

#!/usr/bin/env bash
# Checks that no #include in src/ runs upward: every "folder/..." a file includes must be its own
# folder or one that its folder's line in docs/DEVELOPING.md lists after "uses:". The picture there
# is the one statement of the allowed directions; this reads it, so the two cannot drift apart.
# A folder may only list folders drawn below it. Prints every violation; exits 1 if there is one.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
picture=docs/DEVELOPING.md
# "name/  what it owns  uses: a b c" lines between the layer markers, top to bottom.
rows=$(awk '/<!-- layers: begin -->/ { on = 1; next } /<!-- layers: end -->/ { on = 0 } on && /uses:/' "$picture")
[[ -n $rows ]] || { echo "check-layers: no layer picture in $picture" >&2; exit 1; }
declare -A uses rank
n=0
while IFS= read -r row; do
  name=$(awk '{ print $1 }' <<<"$row"); name=${name%/}
  list=${row#*uses:}
  uses[$name]=" $(tr -s ' ' <<<"$list" | sed 's/^ *//; s/ *$//') "
  rank[$name]=$((n++))
done <<<"$rows"
status=0
for name in "${!uses[@]}"; do
  for used in ${uses[$name]}; do
    [[ $used == - ]] && continue
    # A name stands for its own line or, without one, for every line under it (appmul: appmul/*).
    lines=()
    for other in "${!rank[@]}"; do [[ $other == "$used" || $other == "$used"/* ]] && lines+=("$other"); done
    ((${#lines[@]})) || { echo "$picture: $name/ uses $used/, which has no line"; status=1; continue; }
    for other in "${lines[@]}"; do
      ((rank[$other] > rank[$name])) || { echo "$picture: $name/ uses $other/, which is drawn above it"; status=1; }
    done
  done
done
# The listed folder a path belongs to: the longest listed prefix.
folder_of() {
  local path=$1 best=
  for name in "${!uses[@]}"; do
    [[ $path == "$name"/* && ${#name} -gt ${#best} ]] && best=$name
  done
  echo "$best"
}
while IFS= read -r file; do
  rel=${file#src/}
  own=$(folder_of "$rel")
  [[ -n $own ]] || { echo "$file: its folder has no line in $picture"; status=1; continue; }
  while IFS= read -r inc; do
    target=$(folder_of "$inc")
    [[ -z $target || $target == "$own" ]] && continue
    [[ ${uses[$own]} == *" $target "* || ${uses[$own]} == *" ${target%%/*} "* ]] && continue
    echo "$file includes $inc: $own/ may not use $target/ (docs/DEVELOPING.md)"
    status=1
  done < <(grep -oE '^#include "[a-z_0-9/]+\.h"' "$file" | sed 's/#include "//; s/"$//')
done < <(find src -name '*.h' -o -name '*.cpp' | sort)
((status == 0)) && echo "check-layers: every include in src/ follows $picture"
exit $status

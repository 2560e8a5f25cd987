# shellcheck shell=bash
# The manifests' template renderer, sourced by install.sh. Templates (deploy/manifests/*.yaml) are plain YAML with
# two additions, so that a user can read and diff them:
#   {{ NAME }}      replaced by the value of NAME, always as a double-quoted string that is valid both in YAML and in
#                   JSON (the agent's kubebpf.json is embedded in a ConfigMap). A placeholder must be a whole scalar
#                   (after ': ', '- ', '[', '{' or ','), so a value can never be spliced into the middle of a name.
#   #@ if FLAG      lines up to the matching '#@ end' are kept only when FLAG is on ('#@ if !FLAG': when it is off);
#                   these blocks nest.
# Values never reach the YAML unquoted, and config_load has refused line breaks and control characters, so no value
# can change the manifests' structure.
#
# Callers fill the associative arrays render_values (NAME -> raw value) and render_flags (FLAG -> 1 or empty), and
# define die().

declare -gA render_values=() render_flags=()

# quote VALUE: VALUE as a double-quoted scalar; backslash, double quote and tab escaped the way JSON and YAML agree.
quote() {
  local text=${1//\\/\\\\}
  text=${text//\"/\\\"}
  printf '"%s"' "${text//$'\t'/\\t}"
}

# render TEMPLATE: writes TEMPLATE with its placeholders and conditional blocks resolved; fails naming the template
# and line of an unknown placeholder or flag.
render() {
  local template=$1 name
  local -a environment=()
  for name in "${!render_values[@]}"; do
    environment+=("kubebpf_value_$name=$(quote "${render_values[$name]}")")
  done
  for name in "${!render_flags[@]}"; do
    environment+=("kubebpf_flag_$name=${render_flags[$name]}")
  done
  # shellcheck disable=SC2016 # the single-quoted text is awk's program
  env "${environment[@]}" awk -v template="${template##*/}" '
    function fail(message) { printf "%s:%d: %s\n", template, NR, message > "/dev/stderr"; failed = 1; exit 1 }
    function on(flag) {
      if (!(("kubebpf_flag_" flag) in ENVIRON)) fail("unknown flag " flag)
      return ENVIRON["kubebpf_flag_" flag] == "1"
    }
    /^[[:space:]]*#@ if / {
      flag = $3; negate = sub(/^!/, "", flag)
      keep[depth + 1] = keep[depth] && (on(flag) != negate)
      depth++
      next
    }
    /^[[:space:]]*#@ end[[:space:]]*$/ { if (depth == 0) fail("#@ end without #@ if"); depth--; next }
    /^[[:space:]]*#@/ { fail("unknown directive: " $0) }
    !keep[depth] { next }
    {
      out = ""; rest = $0
      while ((start = index(rest, "{{")) > 0) {
        end = index(rest, "}}")
        if (end < start) fail("unclosed placeholder")
        name = substr(rest, start + 2, end - start - 2); gsub(/[[:space:]]/, "", name)
        if (!(("kubebpf_value_" name) in ENVIRON)) fail("unknown placeholder " name)
        before = substr(rest, start - 1, 1); after = substr(rest, end + 2, 1)
        if ((start > 1 && before !~ /[[:space:][{,]/) || (after != "" && after !~ /[]},[:space:]]/)) fail("placeholder " name " is not a whole scalar")
        out = out substr(rest, 1, start - 1) ENVIRON["kubebpf_value_" name]
        rest = substr(rest, end + 2)
      }
      print out rest
    }
    BEGIN { depth = 0; keep[0] = 1 }
    END { if (!failed && depth != 0) { printf "%s: #@ if without #@ end\n", template > "/dev/stderr"; exit 1 } }' "$template" || die "cannot render $template"
}

# shellcheck shell=bash
# The one reader of config.ini, sourced by install.sh and uninstall.sh so that both read a file the same way.
#
# Format: [section] headers and KEY=value lines; lines starting with ';' or '#' are comments; blanks are ignored;
# spaces around keys and values are trimmed; CRLF line ends are accepted (files edited on Windows). A value is
# everything after the first '=', so it may hold ':', '#', ';', '=' or quotes. A value with a line break or another
# control character is refused, naming its key: the installer pastes values into YAML and JSON, where a line break
# would change the structure.
#
# Callers define die() (prints its arguments as an error and exits).

declare -gA _config_values=()
_config_file=

# config_load FILE: reads FILE once; later config_get calls answer from it.
config_load() {
  local file=$1 line section='' key value number=0
  [[ -f $file ]] || die "no configuration at $file"
  # YAML and JSON are UTF-8: a value in another encoding would make the manifests unreadable.
  iconv -f UTF-8 -t UTF-8 "$file" >/dev/null 2>&1 || die "$file is not UTF-8 text (save it as UTF-8)"
  _config_file=$file
  _config_values=()
  while IFS= read -r line || [[ -n $line ]]; do
    number=$((number + 1))
    line=${line%$'\r'}
    line=$(_config_trim "$line")
    [[ -z $line || $line == [\;#]* ]] && continue
    if [[ $line == \[*\] ]]; then
      section=$(_config_trim "${line:1:${#line}-2}")
      continue
    fi
    [[ $line == *=* ]] || die "$file:$number: expected KEY=value or [section], found: $line"
    key=$(_config_trim "${line%%=*}")
    value=$(_config_trim "${line#*=}")
    [[ -n $section ]] || die "$file:$number: $key is outside any [section]"
    _config_check_value "$section" "$key" "$value"
    _config_values[$section.$key]=$value
  done <"$file"
}

# config_get SECTION KEY [DEFAULT]: the value of KEY in [SECTION]. Without DEFAULT a missing or empty value is an
# error naming the key; with DEFAULT (which may be empty) a missing or empty value gives DEFAULT.
config_get() {
  local value=${_config_values[$1.$2]-}
  if [[ -z $value ]]; then
    (($# >= 3)) || die "$_config_file: [$1] $2 is missing"
    value=$3
  fi
  printf '%s' "$value"
}

# config_namespace: [global] NAMESPACE, checked: a Kubernetes namespace name (DNS label) that kubebpf may own. The
# uninstaller deletes the whole namespace, so the namespaces Kubernetes itself uses are refused by both scripts.
config_namespace() {
  local namespace
  namespace=$(config_get global NAMESPACE)
  case $namespace in
    default | kube-system | kube-public | kube-node-lease)
      die "$_config_file: [global] NAMESPACE=$namespace is a namespace Kubernetes itself uses; kubebpf needs a namespace of its own (the uninstaller deletes the whole namespace)" ;;
  esac
  [[ ${#namespace} -le 63 && $namespace =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] ||
    die "$_config_file: [global] NAMESPACE=$namespace is not a Kubernetes namespace name (lower-case letters, digits and '-', at most 63)"
  printf '%s' "$namespace"
}

_config_trim() {
  local text=$1
  text=${text#"${text%%[![:space:]]*}"}
  printf '%s' "${text%"${text##*[![:space:]]}"}"
}

# Control characters (anything below space except tab, so a lone CR too, and DEL) and the Unicode line breaks
# YAML also honours (NEL U+0085, LS U+2028, PS U+2029), checked byte-wise so that the locale does not matter.
_config_check_value() {
  local LC_ALL=C control=$'[\001-\010\012-\037\177]'
  if [[ $3 =~ $control || $3 == *$'\302\205'* || $3 == *$'\342\200\250'* || $3 == *$'\342\200\251'* ]]; then
    die "$_config_file: [$1] $2 has a line break or control character in its value; values must be one line"
  fi
}

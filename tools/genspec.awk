# genspec.awk — turns spec/primitives.sx into C (mode=c) or a Markdown reference (mode=md).
# One entry per line: (prim NAME MIN MAX (KINDS...) "doc" [:lib])
BEGIN {
  kind["any"] = "K_ANY"; kind["number"] = "K_NUMBER"; kind["integer"] = "K_INTEGER"
  kind["string"] = "K_STRING"; kind["symbol"] = "K_SYMBOL"; kind["keyword"] = "K_KEYWORD"
  kind["char"] = "K_CHAR"; kind["pair"] = "K_PAIR"; kind["list"] = "K_LIST"
  kind["vector"] = "K_VECTOR"; kind["dict"] = "K_DICT"; kind["procedure"] = "K_PROCEDURE"
  kind["boolean"] = "K_BOOLEAN"; kind["error"] = "K_ERROR"; kind["env"] = "K_ENV"
  kind["array"] = "K_ARRAY"; kind["name"] = "K_NAMELIKE"
  n = 0
  if (mode == "c") print "/* generated from spec/primitives.sx by tools/genspec.awk — do not edit */"
  if (mode == "md") { print "| primitive | arguments | description |"; print "|---|---|---|" }
}
/^;;+ ----/ && mode == "md" {
  sect = $0; sub(/^;;+ ---- */, "", sect)
  print "| **" sect "** | | |"
}
/^\(prim / {
  line = $0
  if (!match(line, /^\(prim [^ ]+ -?[0-9]+ -?[0-9]+ \(/)) { print "genspec: bad line: " line > "/dev/stderr"; exit 1 }
  split(line, w, " ")
  name = w[2]; min = w[3]; max = w[4]
  after = substr(line, RLENGTH + 1)
  ks = substr(after, 1, index(after, ")") - 1)
  tail = substr(after, index(after, ")") + 1)
  if (!match(tail, /"[^"]*"/)) { print "genspec: no doc: " line > "/dev/stderr"; exit 1 }
  doc = substr(tail, RSTART + 1, RLENGTH - 2)
  lib = (substr(tail, RSTART + RLENGTH) ~ /:lib/) ? 1 : 0
  nk = split(ks, kw, " ")
  if (mode == "c") {
    list = ""
    for (i = 1; i <= nk; i++) {
      if (!(kw[i] in kind)) { print "genspec: unknown kind " kw[i] " in " line > "/dev/stderr"; exit 1 }
      list = list (i > 1 ? ", " : "") kind[kw[i]]
    }
    if (nk) print "static const uint8_t prim_kinds_" n "[] = {" list "};"
    entries[n] = "  {\"" name "\", " min ", " max ", " (nk ? "prim_kinds_" n : "NULL") ", " nk ", \"" doc "\", " lib "},"
  } else if (mode == "md") {
    args = ""
    for (i = 1; i <= nk; i++) {
      opt = (i > min) ? 1 : 0
      args = args (i > 1 ? " " : "") (opt ? "[" kw[i] "]" : kw[i])
    }
    if (max == -1) args = args " ..."
    d = doc; gsub(/\|/, "\\|", d)
    print "| `" name "` | " args " | " d (lib ? " *(SX prelude)*" : "") " |"
  }
  n++
}
END {
  if (mode == "c") {
    print "const sx_prim_spec prim_specs[] = {"
    for (i = 0; i < n; i++) print entries[i]
    print "};"
    print "const int prim_nspecs = " n ";"
  }
}

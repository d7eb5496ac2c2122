# embed.awk — turns lib/*.sx into a C header of string literals (sx_lib_sources).
BEGIN {
  print "/* generated from the lib folder by tools/embed.awk — do not edit */"
  print "static const struct { const char *name; const char *text; } sx_lib_sources[] = {"
}
FNR == 1 { if (NR > 1) print "  },"; print "  {\"" FILENAME "\"," }
{
  line = $0
  gsub(/\\/, "\\\\", line)
  gsub(/"/, "\\\"", line)
  print "   \"" line "\\n\""
}
END { if (NR > 0) print "  },"; print "};" }

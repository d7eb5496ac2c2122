# splice.awk — replaces the text between the primitive-reference markers of README.md with the
# contents of the file named by -v ref=FILE.
/<!-- primitives:begin/ { print; while ((getline line < ref) > 0) print line; skip = 1; next }
/<!-- primitives:end/ { skip = 0 }
!skip { print }

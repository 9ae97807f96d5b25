# Sourced by test.sh: the SAM template checks. Offline; needs ensure_sam_venv (lib.sh).
check_template() {
  ensure_sam_venv
  echo "== sam validate --lint"
  "$SAM" validate --lint --template-file "$ROOT/template.yaml"
  echo "== cfn-lint template.yaml"
  "$CFN_LINT" "$ROOT/template.yaml"
}

package riskreport

// FormatUSD writes a report's dollar amount for people: thousands grouped,
// cents ("1234567.891" is "$1,234,567.89"). The report itself keeps the
// exact decimal.
func FormatUSD(s string) string { return formatUSD(s) }

// FormatRatio writes a report's ratio or fraction for people, to about
// three significant digits ("0.666666666666666667" is "0.667").
func FormatRatio(s string) string { return formatRatio(s) }

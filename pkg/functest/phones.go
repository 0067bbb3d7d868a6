package functest

// ForeignPrefixed are a mainland-looking number (13800138000) behind
// another country's prefix, or behind a prefix that is not "+86" or "86"
// exactly, spelt as users type them. None is a mainland-China mobile
// number: every route that takes a phone answers INVALID_PHONE to each,
// and none may be read as 13800138000.
var ForeignPrefixed = []string{
	"+44 13800138000",
	"+4413800138000",
	"+44-138-0013-8000",
	"+1 13800138000",
	"+852 13800138000",
	"+85213800138000",
	"0044 13800138000",
	"4413800138000",
	"+086 13800138000",
	"+86 86 13800138000",
	"0086 13800138000",
}

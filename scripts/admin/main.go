// Command admin is the operators' tool: it finds an account and shows,
// exports, disables, enables, logs out or deletes it, against the
// deployment's database:
//
//	MONGODB_URI=mongodb://… [MONGODB_DATABASE=auth] [JWT_SECRET=…] go run ./scripts/admin <command> [flags]
//
// Without MONGODB_URI it works on the local development database (.data/db,
// the one go run ./scripts/dev uses). An account is named by -phone,
// -openid, -unionid or -id, and found through the identity claims, by
// primary key: never a scan. Every command that changes something asks
// for confirmation (or takes -yes), and writes an audit entry naming the
// operator (-by) before the change, as the functions do. Run it without
// arguments for the list of commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/wxauth/scf-auth/scripts/internal/localscf"
)

func main() {
	getenv := os.Getenv
	if _, isCommand := commands[firstArg()]; isCommand && os.Getenv("MONGODB_URI") == "" {
		getenv, stop, err := localscf.DevEnvironment(".data", os.Getenv)
		if err != nil {
			fmt.Fprintln(os.Stderr, "admin: MONGODB_URI is unset and the local development database did not start:", err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "MONGODB_URI is unset: using the local development database in .data/db")
		code := run(context.Background(), os.Args[1:], getenv, os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(run(context.Background(), os.Args[1:], getenv, os.Stdin, os.Stdout, os.Stderr))
}

func firstArg() string {
	if len(os.Args) < 2 {
		return ""
	}
	return os.Args[1]
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // not found, refused, aborted, or the database failed
	exitUsage = 2
)

const usage = `usage: go run ./scripts/admin <command> [flags]

commands:
  show     the account, its sessions and its recent security events
  audit    the account's audit trail, oldest first
  export   everything stored about the account, as JSON (a person's access request under PIPL)
  disable  disable the account: its logins, refreshes, tokens and SMS codes answer ACCOUNT_DISABLED
  enable   enable it again
  logout   end all its sessions: its tokens are refused at once
  delete   delete it as DELETE /profile does: a tombstone, its sessions ended, its phone and WeChat freed

the account, one of:
  -phone 13800138000   -openid [wx…:]o…   -unionid u…   -id <24 hex>

export and the changing commands:
  -by <operator>   who you are, written into the audit trail (required)
  -yes             do not ask for confirmation (changing commands)

environment: MONGODB_URI, MONGODB_DATABASE (default auth), JWT_SECRET (export includes the
phone's SMS records with it), AUDIT_RETENTION (default 4320h), WECHAT_APPID (the app of an
-openid that names none)
`

// run runs one command and returns the process's exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "admin: no command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	inv, err := parse(args[0], args[1:], cmd, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "admin:", err)
		return exitUsage
	}
	t, err := connect(ctx, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "admin:", err)
		return exitFail
	}
	defer t.close()
	t.in, t.out, t.errOut = newPrompt(stdin), stdout, stderr
	if err := cmd.run(ctx, t, inv); err != nil {
		fmt.Fprintln(stderr, "admin:", err)
		return exitFail
	}
	return exitOK
}

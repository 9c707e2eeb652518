"""``fraiseql login-url`` and ``fraiseql login-callback``: the ``[security.pkce]`` login (OIDC authorization
code with PKCE) in the reference runtime, to try a provider setup end to end. The first prints the URL to
open; the second takes the redirect the provider sent the browser to, redeems the code and prints the
verified access token (for ``fraiseql query --token``) as JSON.

Exit 0 on success, 1 when the login is refused (an unknown, used or expired state, a nonce that is not this
login's, the provider refusing the code, a token failing a check), 2 on input or configuration errors; the
error is one line on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from fraiseql_compiler.manifest import MANIFEST_FILE

PATH = click.Path(path_type=Path)
MANIFEST_HELP = f"The manifest (default: build/{MANIFEST_FILE} of the project at PATH)."
STATE_DIR_HELP = "Where pending logins are kept (default: $XDG_CACHE_HOME/fraiseql/pkce, or ~/.cache/fraiseql/pkce)."


def _run(body: Callable[[], Any], outcome: str) -> Any:
    """Run ``body``; a LoginError becomes one line on stderr and exit 1 (refused) or 2; a manifest that
    cannot be read is reported as by the other commands (exit 2)."""
    from fraiseql_compiler.cli.app import guarded
    from fraiseql_compiler.executor.pkce import LoginError

    def caught() -> tuple[Any, LoginError | None]:
        try:
            return body(), None
        except LoginError as exc:
            return None, exc

    result, error = guarded(Path.cwd(), caught, outcome=outcome)
    if error is not None:
        click.echo(f"{'login refused' if error.refused else 'error'}: {error.message}", err=True)
        raise click.exceptions.Exit(error.exit_code)
    return result


def _manifest(path: Path | None, manifest: Path | None) -> Any:
    from fraiseql_compiler.cli.access_cmd import manifest_path
    from fraiseql_compiler.manifest.io import load

    return load(manifest_path(path, manifest, Path.cwd()))


@click.command(name="login-url")
@click.argument("path", required=False, type=PATH)
@click.option("--manifest", type=PATH, help=MANIFEST_HELP)
@click.option(
    "--redirect-uri",
    metavar="URI",
    help="Where the provider sends the browser back (default: the first of [security.pkce] redirect_uris).",
)
@click.option("--state-dir", type=PATH, help=STATE_DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the URL, state, redirect URI and expiry as JSON.")
def login_url(
    path: Path | None, manifest: Path | None, redirect_uri: str | None, state_dir: Path | None, as_json: bool
) -> None:
    """Start a [security.pkce] login: print the provider's authorization URL to open in a browser.

    A fresh PKCE verifier (S256), state and nonce are made; the pending login is kept 10 minutes in a
    private file under --state-dir. After signing in, the provider sends the browser to the redirect URI:
    pass that URL to `fraiseql login-callback --url`. PATH is the project (default: the current
    directory's fraiseql.toml)."""
    from fraiseql_compiler.executor import pkce

    def body() -> pkce.Authorization:
        return pkce.begin(_manifest(path, manifest), redirect_uri=redirect_uri, state_dir=state_dir)

    started: pkce.Authorization = _run(body, outcome="no login was started")
    if as_json:
        from datetime import UTC, datetime

        out = {
            "authorization_url": started.url,
            "code_challenge": started.code_challenge,
            "code_challenge_method": "S256",
            "expires_at": datetime.fromtimestamp(started.expires_at, UTC).isoformat(timespec="seconds"),
            "nonce": started.nonce,
            "redirect_uri": started.redirect_uri,
            "state": started.state,
            "state_file": str(started.state_file),
        }
        click.echo(json.dumps(out, indent=2, sort_keys=True))
        return
    click.echo(started.url)
    if sys.stderr.isatty():
        click.echo(
            f"open it, sign in, then run: fraiseql login-callback --url '<the URL the browser lands on>' "
            f"(within {pkce.STATE_TTL_SECONDS // 60} minutes)",
            err=True,
        )


@click.command(name="login-callback")
@click.argument("path", required=False, type=PATH)
@click.option("--url", "redirect_url", metavar="REDIRECT_URL", help="The URL the provider sent the browser to.")
@click.option("--code", help="The authorization code (with --state, instead of --url).")
@click.option("--state", help="The state the provider sent back (with --code).")
@click.option("--manifest", type=PATH, help=MANIFEST_HELP)
@click.option("--database", metavar="URL", help="Also link the identity in this database, as the authenticator.")
@click.option("--state-dir", type=PATH, help=STATE_DIR_HELP)
def login_callback(
    path: Path | None,
    redirect_url: str | None,
    code: str | None,
    state: str | None,
    manifest: Path | None,
    database: str | None,
    state_dir: Path | None,
) -> None:
    """Finish a [security.pkce] login: redeem the code, verify the tokens, print JSON.

    The pending login of the state is used once (a second callback with it is refused). The code is
    exchanged at the provider's token endpoint with the PKCE verifier (and the client secret when the
    variable [security.pkce] client_secret_env names is set); the ID token is verified (keys, issuer,
    audience, expiry, nonce), then the access token exactly as `fraiseql query` verifies it. With
    --database the identity is linked as the runtime links it (fraiseql.fn_link_provider_identity). Prints
    access_token, token_type, expires_in, scope, provider, id_token_claims (sub, email, email_verified,
    name) and, with --database, user_id (null: not linked to a local user)."""
    from fraiseql_compiler.executor import pkce

    def body() -> dict[str, Any]:
        if redirect_url is not None and (code is not None or state is not None):
            raise pkce.invalid("pass --url, or --code and --state, not both")
        if redirect_url is not None:
            callback = pkce.parse_redirect(redirect_url)
        elif code is not None and state is not None:
            callback = pkce.Callback(code, state)
        else:
            raise pkce.invalid("pass the redirect URL with --url, or --code and --state")
        assert callback.state is not None
        login = pkce.finish(
            _manifest(path, manifest),
            state=callback.state,
            code=callback.code,
            error=callback.error,
            error_description=callback.error_description,
            iss=callback.iss,
            state_dir=state_dir,
            database=database or None,
        )
        if database and login.user_id is None:
            why = (
                f'provider {login.provider} links identities explicitly (link = "explicit")'
                if login.link == "explicit"
                else "no account holds a verified email of this identity (or another identity holds it)"
            )
            click.echo(f"note: the identity is not linked to a local user: {why}", err=True)
        return login.as_json(linked=bool(database))

    click.echo(json.dumps(_run(body, outcome="nobody was signed in"), indent=2, sort_keys=True))

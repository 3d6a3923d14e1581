import type { ViewContext } from "./view-context.js";

/** The token login form (token auth, in a browser). The 401 page of token auth. */
export function LoginPage(props: {
  ctx: Pick<ViewContext, "base" | "title" | "asset">;
  failed: boolean;
  next: string;
}) {
  const { ctx } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`Log in · ${ctx.title}`}</title>
        <link rel="stylesheet" href={ctx.asset("dashboard.css")} />
      </head>
      <body>
        <form class="login" method="post" action={`${ctx.base}/login`}>
          <h1>{ctx.title}</h1>
          <p class="muted">This dashboard needs its access token.</p>
          {props.failed ? (
            <div class="flash bad">That token is not the dashboard's token.</div>
          ) : null}
          <input type="hidden" name="next" value={props.next} />
          <label>
            token
            <input
              type="password"
              name="token"
              autocomplete="current-password"
              required
              autofocus
            />
          </label>
          <button type="submit" class="primary">
            Log in
          </button>
        </form>
      </body>
    </html>
  );
}

//! The account pages: login, first-visit setup, logout, and the admin's accounts page (viewers and API tokens).
//!
//! Access is decided before these run (`auth::gate`): `/login` is public, `/setup` only while
//! no admin exists, `/accounts/...` admin only, and every POST here has passed the CSRF check.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::{self, ClientIp, Ctx, PRE_SESSION_COOKIE, SESSION_COOKIE};
use super::pages::Layout;
use super::{AppState, WebError, format};
use crate::accounts::{self, ADMIN, MIN_PASSWORD_LEN, Role, TokenRecord, UserRecord};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    layout: Layout,
    next: &'a str,
    username: &'a str,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

fn render_login(
    ctx: &Ctx,
    status: StatusCode,
    next: &str,
    username: &str,
    error: Option<String>,
) -> Result<Response, WebError> {
    let page = LoginPage {
        layout: Layout::new("/login", ctx),
        next: auth::local_next(next),
        username,
        error,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// `GET /login`.
pub async fn login_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    let next = q.next.as_deref().unwrap_or("/");
    if auth::setup_open(&state).await? {
        return Ok(Redirect::to("/setup").into_response());
    }
    if ctx.principal.is_some() {
        return Ok(Redirect::to(auth::local_next(next)).into_response());
    }
    render_login(&ctx, StatusCode::OK, next, ADMIN, None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Checks a name and password; the account's role when they match. Unknown names cost as
/// much time as known ones (see [`accounts::dummy_hash`]).
async fn check_password(
    state: &AppState,
    name: &str,
    password: String,
) -> Result<Option<Role>, WebError> {
    let (phc, role) = match state.auth.configured_admin() {
        Some(phc) if name == ADMIN => (Some(phc.to_owned()), Role::Admin),
        _ => {
            let n = name.to_owned();
            match state.read(move |s| s.user(&n)).await? {
                Some(u) => (Some(u.password_hash), u.role),
                None => (None, Role::Viewer),
            }
        }
    };
    let known = phc.is_some();
    let phc = phc.unwrap_or_else(|| accounts::dummy_hash().to_owned());
    let ok = state
        .auth
        .hash_work(move || accounts::verify_password(&password, &phc))
        .await?;
    Ok((ok && known).then_some(role))
}

fn session_response(
    state: &AppState,
    user: &str,
    role: Role,
    to: &str,
) -> Result<Response, WebError> {
    let id = state.auth.start_session(user, role)?;
    let mut resp = Redirect::to(to).into_response();
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        auth::set_cookie(SESSION_COOKIE, &accounts::to_hex(&id)),
    );
    h.append(header::SET_COOKIE, auth::clear_cookie(PRE_SESSION_COOKIE));
    Ok(resp)
}

/// `POST /login`: limited per client address (see `auth::Limiter`).
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ctx: Ctx,
    Form(f): Form<LoginForm>,
) -> Result<Response, WebError> {
    if let Err(wait) = state.auth.limiter_check(ip) {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut resp = render_login(
            &ctx,
            StatusCode::TOO_MANY_REQUESTS,
            &f.next,
            &f.username,
            Some(format!(
                "Too many wrong passwords from this device. Wait {secs} s and try again."
            )),
        )?;
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        return Ok(resp);
    }
    match check_password(&state, &f.username, f.password).await? {
        Some(role) => {
            state.auth.limiter_succeeded(ip);
            tracing::info!(user = %f.username, %ip, "logged in");
            session_response(&state, &f.username, role, auth::local_next(&f.next))
        }
        None => {
            state.auth.limiter_failed(ip);
            tracing::warn!(user = %f.username, %ip, "failed login");
            render_login(
                &ctx,
                StatusCode::UNAUTHORIZED,
                &f.next,
                &f.username,
                Some("Wrong account name or password.".into()),
            )
        }
    }
}

/// `POST /logout`.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = auth::cookie(&headers, SESSION_COOKIE).and_then(accounts::from_hex::<32>) {
        state.auth.end_session(&id);
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, auth::clear_cookie(SESSION_COOKIE));
    resp
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    layout: Layout,
    min_len: usize,
    error: Option<String>,
}

fn render_setup(
    ctx: &Ctx,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, WebError> {
    let page = SetupPage {
        layout: Layout::new("/setup", ctx),
        min_len: MIN_PASSWORD_LEN,
        error,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// `GET /setup`: only while no admin exists (the gate lets anyone in then).
pub async fn setup_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    if !auth::setup_open(&state).await? {
        return super::pages::not_found(ctx.clone()).await;
    }
    render_setup(&ctx, StatusCode::OK, None)
}

#[derive(Deserialize)]
pub struct SetupForm {
    password: String,
    confirm: String,
}

/// `POST /setup`: creates the admin and logs the visitor in as it.
pub async fn setup(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<SetupForm>,
) -> Result<Response, WebError> {
    let _one_at_a_time = state.auth.setup_lock().await;
    if !auth::setup_open(&state).await? {
        return super::pages::not_found(ctx.clone()).await;
    }
    if f.password != f.confirm {
        return render_setup(
            &ctx,
            StatusCode::BAD_REQUEST,
            Some("The two passwords differ.".into()),
        );
    }
    if f.password.chars().count() < MIN_PASSWORD_LEN {
        return render_setup(
            &ctx,
            StatusCode::BAD_REQUEST,
            Some(format!("Use at least {MIN_PASSWORD_LEN} characters.")),
        );
    }
    let phc = state
        .auth
        .hash_work(move || accounts::hash_password(&f.password))
        .await?
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let now = accounts::now_us();
    let user = UserRecord {
        name: ADMIN.to_owned(),
        role: Role::Admin,
        password_hash: phc,
        created_us: now,
        updated_us: now,
    };
    state.read(move |s| s.put_user(&user)).await?;
    state.auth.note_admin_exists();
    tracing::info!("admin account created on the setup page");
    session_response(&state, ADMIN, Role::Admin, "/networks")
}

/// One account on the accounts page.
struct UserRow {
    name: String,
    role: &'static str,
    created: String,
    removable: bool,
}

struct TokenRow {
    name: String,
    role: &'static str,
    created: String,
    last_used: String,
}

/// A token just created, shown once.
struct NewToken {
    name: String,
    role: &'static str,
    token: String,
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    layout: Layout,
    users: Vec<UserRow>,
    tokens: Vec<TokenRow>,
    min_len: usize,
    new_token: Option<NewToken>,
    error: Option<String>,
    /// The logged-in admin can change its own password here (not when it comes from the
    /// configuration, nor over an API token).
    can_change_password: bool,
}

async fn render_accounts(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    new_token: Option<NewToken>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let (users, tokens) = state.read(|s| Ok((s.users()?, s.tokens()?))).await?;
    let configured = state.auth.configured_admin().is_some();
    let mut users: Vec<UserRow> = users
        .iter()
        .filter(|u| !(configured && u.name == ADMIN))
        .map(|u| UserRow {
            name: u.name.clone(),
            role: u.role.label(),
            created: format::time_short(u.created_us),
            removable: u.role != Role::Admin,
        })
        .collect();
    if configured {
        users.insert(
            0,
            UserRow {
                name: ADMIN.to_owned(),
                role: Role::Admin.label(),
                created: "from the configuration".to_owned(),
                removable: false,
            },
        );
    }
    let page = AccountsPage {
        layout: Layout::new("/accounts", ctx),
        users,
        tokens: tokens
            .iter()
            .map(|t| TokenRow {
                name: t.name.clone(),
                role: t.role.label(),
                created: format::time_short(t.created_us),
                last_used: t
                    .last_used_us
                    .map_or_else(|| "never".to_owned(), format::time_short),
            })
            .collect(),
        min_len: MIN_PASSWORD_LEN,
        new_token,
        error,
        can_change_password: ctx
            .principal
            .as_ref()
            .is_some_and(|p| p.via == auth::Via::Session && !(configured && p.name == ADMIN)),
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// `GET /accounts` (admin only).
pub async fn accounts_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    render_accounts(&state, &ctx, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
pub struct NameForm {
    name: String,
}

#[derive(Deserialize)]
pub struct ViewerForm {
    name: String,
    password: String,
}

/// `POST /accounts/users`: adds a viewer, or sets an existing viewer's password.
pub async fn save_viewer(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ViewerForm>,
) -> Result<Response, WebError> {
    let bad = |msg: String| render_accounts(&state, &ctx, StatusCode::BAD_REQUEST, None, Some(msg));
    if !accounts::valid_name(&f.name) {
        return bad("Names are 1 to 32 letters, digits, dots, dashes or underscores.".into()).await;
    }
    let name = f.name.clone();
    let existing = state.read(move |s| s.user(&name)).await?;
    if f.name == ADMIN || existing.as_ref().is_some_and(|u| u.role == Role::Admin) {
        return bad(format!(
            "{} is an admin account; change its password with piwardrive user passwd.",
            f.name
        ))
        .await;
    }
    if f.password.chars().count() < MIN_PASSWORD_LEN {
        return bad(format!("Use at least {MIN_PASSWORD_LEN} characters.")).await;
    }
    let password = f.password;
    let phc = state
        .auth
        .hash_work(move || accounts::hash_password(&password))
        .await?
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let now = accounts::now_us();
    let user = UserRecord {
        name: f.name.clone(),
        role: Role::Viewer,
        password_hash: phc,
        created_us: existing.map_or(now, |u| u.created_us),
        updated_us: now,
    };
    state.read(move |s| s.put_user(&user)).await?;
    state.auth.end_sessions_of(&f.name);
    Ok(Redirect::to("/accounts").into_response())
}

/// `POST /accounts/users/remove`: removes a viewer and ends its sessions.
pub async fn remove_user(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<NameForm>,
) -> Result<Response, WebError> {
    let name = f.name.clone();
    let existing = state.read(move |s| s.user(&name)).await?;
    match existing {
        Some(u) if u.role == Role::Viewer => {
            let name = f.name.clone();
            state.read(move |s| s.remove_user(&name)).await?;
            state.auth.end_sessions_of(&f.name);
            Ok(Redirect::to("/accounts").into_response())
        }
        _ => {
            render_accounts(
                &state,
                &ctx,
                StatusCode::BAD_REQUEST,
                None,
                Some("Only viewer accounts can be removed here.".into()),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
    role: Role,
}

/// `POST /accounts/tokens`: creates a token and shows it once.
pub async fn create_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<TokenForm>,
) -> Result<Response, WebError> {
    if !accounts::valid_name(&f.name) {
        return render_accounts(
            &state,
            &ctx,
            StatusCode::BAD_REQUEST,
            None,
            Some("Names are 1 to 32 letters, digits, dots, dashes or underscores.".into()),
        )
        .await;
    }
    let (token, hash) = accounts::new_token().map_err(|e| WebError::Internal(e.to_string()))?;
    let record = TokenRecord {
        name: f.name.clone(),
        role: f.role,
        created_us: accounts::now_us(),
        last_used_us: None,
    };
    match state.read(move |s| s.add_token(&hash, &record)).await {
        Ok(()) => {
            let shown = NewToken {
                name: f.name,
                role: f.role.label(),
                token,
            };
            let mut resp = render_accounts(&state, &ctx, StatusCode::OK, Some(shown), None).await?;
            // The token is in this page only: keep it out of every cache.
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(resp)
        }
        Err(WebError::Store(e @ crate::store::StoreError::Exists { .. })) => {
            render_accounts(
                &state,
                &ctx,
                StatusCode::CONFLICT,
                None,
                Some(e.to_string()),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// `POST /accounts/tokens/revoke`.
pub async fn revoke_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<NameForm>,
) -> Result<Response, WebError> {
    let name = f.name.clone();
    if state.read(move |s| s.revoke_token(&name)).await? {
        tracing::info!(token = %f.name, "API token revoked");
        Ok(Redirect::to("/accounts").into_response())
    } else {
        render_accounts(
            &state,
            &ctx,
            StatusCode::NOT_FOUND,
            None,
            Some(format!("There is no token named {:?}.", f.name)),
        )
        .await
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    password: String,
    confirm: String,
}

/// `POST /accounts/password`: the logged-in admin changes its own password. The current
/// password is checked (and limited like a login), every other session of the account ends,
/// and this one is replaced by a new session.
pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ctx: Ctx,
    Form(f): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let bad = |status, msg: String| render_accounts(&state, &ctx, status, None, Some(msg));
    let Some(me) = ctx
        .principal
        .as_ref()
        .filter(|p| p.via == auth::Via::Session)
    else {
        return bad(
            StatusCode::BAD_REQUEST,
            "Log in with a password to change it.".into(),
        )
        .await;
    };
    if state.auth.configured_admin().is_some() && me.name == ADMIN {
        return bad(
            StatusCode::BAD_REQUEST,
            "The admin password comes from the configuration ([web] admin_password): change it there."
                .into(),
        )
        .await;
    }
    if let Err(wait) = state.auth.limiter_check(ip) {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut resp = bad(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many wrong passwords from this device. Wait {secs} s and try again."),
        )
        .await?;
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        return Ok(resp);
    }
    if check_password(&state, &me.name, f.current).await?.is_none() {
        state.auth.limiter_failed(ip);
        return bad(
            StatusCode::UNAUTHORIZED,
            "The current password is wrong.".into(),
        )
        .await;
    }
    state.auth.limiter_succeeded(ip);
    if f.password != f.confirm {
        return bad(
            StatusCode::BAD_REQUEST,
            "The two new passwords differ.".into(),
        )
        .await;
    }
    let password = f.password;
    let phc = match state
        .auth
        .hash_work(move || accounts::hash_password(&password))
        .await?
    {
        Ok(phc) => phc,
        Err(e) => return bad(StatusCode::BAD_REQUEST, e.to_string()).await,
    };
    let name = me.name.clone();
    let existing = state.read(move |s| s.user(&name)).await?;
    let now = accounts::now_us();
    let user = UserRecord {
        name: me.name.clone(),
        role: existing.as_ref().map_or(me.role, |u| u.role),
        password_hash: phc,
        created_us: existing.map_or(now, |u| u.created_us),
        updated_us: now,
    };
    state.read(move |s| s.put_user(&user)).await?;
    state.auth.end_sessions_of(&me.name);
    tracing::info!(user = %me.name, "password changed");
    session_response(&state, &me.name, me.role, "/accounts")
}

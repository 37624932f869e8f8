//! Parsing and validating the arguments of `#[track_metrics(...)]`.
//!
//! `Args::parse` reads what the user wrote, keeping every original token for error
//! spans; `Args::build` validates it into an `Options` that can only hold valid
//! values. Every problem is reported, not only the first one.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitStr, Meta, Token};

use crate::errors::Errors;
use crate::http;

// The valid keys, named in every error about a key.
const ARGUMENTS: &str = "`name`, `method`, `route`, `crate`, `objective`";

/// The arguments as written, each with its original tokens.
#[derive(Default)]
pub(crate) struct Args {
    name: Option<LitStr>,
    method: Option<LitStr>,
    route: Option<LitStr>,
    krate: Option<LitStr>,
    objective: Option<syn::Path>,
}

/// Valid options: what the expansion needs, with defaults not yet applied.
pub(crate) struct Options {
    pub(crate) name: Option<String>,
    pub(crate) method: Option<String>,
    pub(crate) route: Option<String>,
    pub(crate) krate: Option<syn::Path>,
    /// The path of the `Objective` (a const) the handler counts toward.
    pub(crate) objective: Option<syn::Path>,
}

impl Args {
    /// Parses `key = "value", ...`; unknown, repeated and mistyped arguments are errors.
    pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> Args {
        let mut args = Args::default();
        let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens) {
            Ok(metas) => metas,
            Err(err) => {
                errors.push(syn::Error::new(
                    err.span(),
                    format!("{err}; arguments are `key = \"value\"` pairs with keys {ARGUMENTS}"),
                ));
                return args;
            }
        };
        for meta in metas {
            let key = meta.path();
            let Some(ident) = key.get_ident().cloned() else {
                errors.push(syn::Error::new_spanned(
                    key,
                    format!("unknown argument; expected one of {ARGUMENTS}"),
                ));
                continue;
            };
            let key_name = ident.to_string();
            if key_name == "objective" {
                args.parse_objective(ident, meta, errors);
                continue;
            }
            let slot = match key_name.as_str() {
                "name" => &mut args.name,
                "method" => &mut args.method,
                "route" => &mut args.route,
                "crate" => &mut args.krate,
                _ => {
                    errors.push(syn::Error::new_spanned(
                        ident,
                        format!("unknown argument `{key_name}`; expected one of {ARGUMENTS}"),
                    ));
                    continue;
                }
            };
            // Taken by value: syn's `Clone` impls are an optional feature.
            let value = match meta {
                Meta::NameValue(nv) => match nv.value {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(lit), ..
                    }) => lit,
                    other => {
                        errors.push(syn::Error::new_spanned(
                            other,
                            format!("expected a string literal: `{key_name} = \"...\"`"),
                        ));
                        continue;
                    }
                },
                other @ (Meta::Path(_) | Meta::List(_)) => {
                    errors.push(syn::Error::new_spanned(
                        other,
                        format!("expected `{key_name} = \"...\"`"),
                    ));
                    continue;
                }
            };
            if slot.is_some() {
                errors.push(syn::Error::new_spanned(
                    ident,
                    format!("`{key_name}` set multiple times"),
                ));
                continue;
            }
            *slot = Some(value);
        }
        args
    }

    // `objective = PATH`: a path, not a string.
    fn parse_objective(&mut self, ident: syn::Ident, meta: Meta, errors: &mut Errors) {
        let path = match meta {
            Meta::NameValue(nv) => match nv.value {
                Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => path.path,
                other => {
                    errors.push(syn::Error::new_spanned(
                        other,
                        "expected the path of an `Objective` constant: `objective = CHECKOUT`",
                    ));
                    return;
                }
            },
            other @ (Meta::Path(_) | Meta::List(_)) => {
                errors.push(syn::Error::new_spanned(
                    other,
                    "expected `objective = PATH`, the path of an `Objective` constant",
                ));
                return;
            }
        };
        if self.objective.is_some() {
            errors.push(syn::Error::new_spanned(
                ident,
                "`objective` set multiple times; a handler counts toward one objective",
            ));
            return;
        }
        self.objective = Some(path);
    }

    /// Validates every value; an invalid one is reported and left out.
    pub(crate) fn build(self, errors: &mut Errors) -> Options {
        let name = checked(self.name, check_name, errors);
        let method = checked(self.method, check_methods, errors);
        let route = checked(self.route, check_route, errors);
        let krate = self.krate.and_then(|lit| match lit.parse::<syn::Path>() {
            Ok(path) => Some(path),
            Err(_) => {
                errors.push(syn::Error::new(
                    lit.span(),
                    format!(
                        "`crate` must be a path to the runtime crate, such as \"::track_metrics\"; found {:?}",
                        lit.value()
                    ),
                ));
                None
            }
        });
        Options {
            name,
            method,
            route,
            krate,
            objective: self.objective,
        }
    }
}

// The literal's value if `check` accepts it; otherwise its message, spanned on the literal.
fn checked(
    lit: Option<LitStr>,
    check: fn(&str) -> Result<(), String>,
    errors: &mut Errors,
) -> Option<String> {
    let lit = lit?;
    let value = lit.value();
    match check(&value) {
        Ok(()) => Some(value),
        Err(msg) => {
            errors.push(syn::Error::new(lit.span(), msg));
            None
        }
    }
}

// A route pattern, as actix-web writes them.
fn check_route(value: &str) -> Result<(), String> {
    if value.starts_with('/') {
        Ok(())
    } else {
        Err(format!(
            "`route` must be a route pattern starting with `/`, such as \"/users/{{id}}\"; found {value:?}"
        ))
    }
}

// A handler label: an identifier-like name, `Type::method` and dotted paths allowed.
fn check_name(value: &str) -> Result<(), String> {
    let mut chars = value.chars();
    let Some(first) = chars.next() else {
        return Err("`name` must not be empty".to_owned());
    };
    let valid_first = first.is_ascii_alphabetic() || first == '_';
    let valid_rest = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-'));
    if valid_first && valid_rest {
        Ok(())
    } else {
        Err(format!(
            "invalid `name` {value:?}: use ASCII letters, digits, `_`, `:`, `.` and `-`, starting with a letter or `_`"
        ))
    }
}

// One HTTP method in upper case, or several joined by `,`.
fn check_methods(value: &str) -> Result<(), String> {
    let valid = http::METHODS.join("`, `");
    for method in value.split(',') {
        if http::METHODS.contains(&method) {
            continue;
        }
        let upper = method.to_ascii_uppercase();
        return Err(if http::METHODS.contains(&upper.as_str()) {
            format!("`method` must be upper case: write {upper:?} instead of {method:?}")
        } else {
            format!("{method:?} is not an HTTP method; expected one of `{valid}`")
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(args: &str) -> (Options, Result<(), syn::Error>) {
        let mut errors = Errors::default();
        let options = Args::parse(args.parse().unwrap(), &mut errors).build(&mut errors);
        (options, errors.finish())
    }

    #[test]
    fn arguments_become_options() {
        let (options, errors) =
            options("name = \"Users::get\", method = \"POST\", route = \"/u\", crate = \"my::rt\"");
        assert!(errors.is_ok());
        assert_eq!(options.name.as_deref(), Some("Users::get"));
        assert_eq!(options.method.as_deref(), Some("POST"));
        assert_eq!(options.route.as_deref(), Some("/u"));
        let krate = options.krate.unwrap();
        assert!(krate.leading_colon.is_none());
        let segments: Vec<String> = krate.segments.iter().map(|s| s.ident.to_string()).collect();
        assert_eq!(segments, ["my", "rt"]);
    }

    #[test]
    fn an_objective_is_a_path() {
        let (parsed, errors) = options("objective = objectives::CHECKOUT, name = \"pay\"");
        assert!(errors.is_ok());
        let path = parsed.objective.unwrap();
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        assert_eq!(segments, ["objectives", "CHECKOUT"]);
        assert_eq!(parsed.name.as_deref(), Some("pay"));
        let (parsed, errors) = options("objective = \"checkout\"");
        assert!(parsed.objective.is_none());
        assert_eq!(
            errors.unwrap_err().to_string(),
            "expected the path of an `Objective` constant: `objective = CHECKOUT`"
        );
    }

    #[test]
    fn no_arguments_leave_every_default() {
        let (options, errors) = options("");
        assert!(errors.is_ok());
        assert!(options.name.is_none() && options.method.is_none());
        assert!(options.route.is_none() && options.krate.is_none());
        assert!(options.objective.is_none());
    }

    #[test]
    fn invalid_values_are_reported_and_left_out() {
        let (options, errors) = options("name = \"\", route = \"users\", method = \"GET\"");
        let messages: Vec<String> = errors
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            messages,
            [
                "`name` must not be empty",
                "`route` must be a route pattern starting with `/`, such as \"/users/{id}\"; found \"users\"",
            ]
        );
        assert!(options.name.is_none() && options.route.is_none());
        assert_eq!(options.method.as_deref(), Some("GET"));
    }

    #[test]
    fn names() {
        assert!(check_name("get_user").is_ok());
        assert!(check_name("Users::get").is_ok());
        assert!(check_name("_private.v2-beta").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("9lives").is_err());
        assert!(check_name("get user").is_err());
    }

    #[test]
    fn methods() {
        assert!(check_methods("GET").is_ok());
        assert!(check_methods("GET,HEAD").is_ok());
        assert_eq!(
            check_methods("get").unwrap_err(),
            "`method` must be upper case: write \"GET\" instead of \"get\""
        );
        assert!(
            check_methods("FETCH")
                .unwrap_err()
                .contains("not an HTTP method")
        );
        assert!(check_methods("GET,").is_err());
    }
}

//! Reading `method` and `route` from an actix-web route attribute on the same item.
//!
//! Input: `#[get("/users/{id}")]`, `#[actix_web::post("/users")]` or
//! `#[route("/a", method = "GET", method = "HEAD")]` among the item's attributes.
//! Output: the methods joined by `,` and the route pattern. Anything unreadable is
//! left to actix-web, which reports its own errors.

use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Meta, Token};

use crate::http;

/// What the route attributes of an item say.
#[derive(Default)]
pub(crate) struct RouteInfo {
    pub(crate) methods: Vec<String>,
    pub(crate) routes: Vec<String>,
}

impl RouteInfo {
    /// Reads the actix-web route attributes among `attrs`; one that does not parse is actix-web's to report.
    pub(crate) fn from_attrs(attrs: &[Attribute]) -> RouteInfo {
        let mut info = RouteInfo::default();
        for attr in attrs {
            let Some(kind) = actix_attr_name(attr) else {
                continue;
            };
            let parsed = if kind == "route" {
                attr.parse_args_with(parse_route_args)
            } else {
                attr.parse_args_with(parse_method_args)
                    .map(|path| (path, vec![kind.to_ascii_uppercase()]))
            };
            if let Ok((path, methods)) = parsed {
                push_unique(&mut info.routes, path.value());
                for method in methods {
                    push_unique(&mut info.methods, method);
                }
            }
        }
        info
    }
}

// `#[get("/a")] #[head("/a")]` names `/a` once.
fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

// `get`, `post`, ... or `route` when the attribute is actix-web's (bare or `actix_web::`).
fn actix_attr_name(attr: &Attribute) -> Option<String> {
    let path = attr.path();
    let last = path.segments.last()?;
    let prefix_ok = match path.segments.len() {
        1 => path.leading_colon.is_none(),
        2 => path.segments[0].ident == "actix_web",
        _ => false,
    };
    let name = last.ident.to_string();
    let known = name == "route"
        || http::METHODS
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&name) && name.chars().all(|c| c.is_ascii_lowercase()));
    (prefix_ok && known).then_some(name)
}

// `("/path", guard = "...", ...)`: the leading string literal is the pattern.
fn parse_method_args(input: ParseStream) -> syn::Result<LitStr> {
    let path: LitStr = input.parse()?;
    input.parse::<proc_macro2::TokenStream>()?;
    Ok(path)
}

// `("/path", method = "GET", method = "HEAD", ...)`.
fn parse_route_args(input: ParseStream) -> syn::Result<(LitStr, Vec<String>)> {
    let path: LitStr = input.parse()?;
    let mut methods = Vec::new();
    if input.parse::<Option<Token![,]>>()?.is_some() {
        let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(input.parse()?)?;
        for meta in metas {
            if let Meta::NameValue(nv) = meta
                && nv.path.is_ident("method")
                && let Expr::Lit(ExprLit {
                    lit: Lit::Str(lit), ..
                }) = nv.value
            {
                methods.push(lit.value().to_ascii_uppercase());
            }
        }
    }
    Ok((path, methods))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(src: &str) -> (String, String) {
        let item: syn::ItemFn = syn::parse_str(src).unwrap();
        let info = RouteInfo::from_attrs(&item.attrs);
        (info.methods.join(","), info.routes.join(","))
    }

    #[test]
    fn method_attributes() {
        assert_eq!(
            info("#[get(\"/users/{id}\")] fn f() {}"),
            ("GET".into(), "/users/{id}".into())
        );
        assert_eq!(
            info("#[actix_web::post(\"/users\", wrap = \"X\")] fn f() {}"),
            ("POST".into(), "/users".into())
        );
        assert_eq!(
            info("#[route(\"/r\", method = \"GET\", method = \"HEAD\")] fn f() {}"),
            ("GET,HEAD".into(), "/r".into())
        );
    }

    #[test]
    fn other_attributes_are_ignored() {
        assert_eq!(
            info("#[inline] #[other::get(\"/x\")] fn f() {}"),
            (String::new(), String::new())
        );
        assert_eq!(info("#[get] fn f() {}"), (String::new(), String::new()));
    }
}

//! `mimic shapes`: list the builtin shapes, or show the exact request one sends.

use super::*;

pub(super) fn shapes(action: ShapesAction) -> ExitCode {
    let catalog = Catalog::builtin();
    match action {
        ShapesAction::List { format } => {
            let rows: Vec<Vec<String>> = catalog
                .iter()
                .map(|s| {
                    let alt: Vec<String> = s
                        .variants
                        .iter()
                        .map(|v| format!("{} {}", v.parts.method, v.parts.path))
                        .filter(|a| *a != format!("{} {}", s.parts.method, s.parts.path))
                        .collect();
                    let mut path = s.parts.path.clone();
                    if !alt.is_empty() {
                        path.push_str(&format!(" (or {})", alt.join(", ")));
                    }
                    vec![
                        s.id.clone(),
                        crate::probe::render::display_sdk(s),
                        s.sdk_version.clone(),
                        s.operation.clone(),
                        s.parts.method.clone(),
                        path,
                    ]
                })
                .collect();
            if format == Format::Json {
                let list: Vec<_> = rows
                    .iter()
                    .map(|r| serde_json::json!({"id": r[0], "sdk": r[1], "sdk_version": r[2], "operation": r[3], "method": r[4], "path": r[5]}))
                    .collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                print!(
                    "{}",
                    gate::table(
                        &["ID", "SDK", "VERSION", "OPERATION", "METHOD", "PATH"],
                        &rows
                    )
                );
            }
            ExitCode::SUCCESS
        }
        ShapesAction::Show {
            id,
            vars,
            base_url,
            format,
        } => {
            let Some(shape) = catalog.get(&id) else {
                return bad_input(format!(
                    "no shape {id:?}; `mimic shapes list` shows them all"
                ));
            };
            let mut all = Vars::new();
            all.insert("environment_key".into(), "ENVIRONMENT_KEY".into());
            match parse_vars(vars.as_deref()) {
                Ok(v) => all.extend(v),
                Err(e) => return bad_input(e),
            }
            let Some(base) = base_url.or_else(|| shape.default_base_url.clone()) else {
                return bad_input("this shape has no default base URL; pass --base-url");
            };
            let req = match render_sequence(shape, &all, &base) {
                Ok(r) => r,
                Err(e) => return bad_input(e),
            };
            match format {
                ShowFormat::Json => println!("{}", show_json(&req)),
                ShowFormat::Text => print!("{}", show_text(&req)),
            }
            ExitCode::SUCCESS
        }
    }
}

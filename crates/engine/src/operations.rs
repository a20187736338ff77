//! The drivers' operation tables ([`hascript_api::operations`]) as script methods: every
//! entry becomes `object.name(args…)` on its global, with its doc comment and parameter
//! names (the REPL's help, `hascript docs`, `hascript check`), and a call goes to the
//! site's [`hascript_api::Site::operation`]. The union of the drivers' tables is
//! registered, so `docs` and `check` know every operation without a site; a call the
//! site's driver does not offer is an `unsupported` error.

use std::any::TypeId;
use std::collections::BTreeSet;
use std::sync::Arc;

use hascript_api::operations::{Object, OperationSpec, ParamType};
use rhai::{Dynamic, Engine, FuncRegistration, Module, NativeCallContext, RhaiFunc};

use super::cluster::ClusterObj;
use super::error::{lift, usage};
use super::fence::FenceObj;
use super::hypervisor::HypervisorObj;
use super::package::PackageObj;

/// Every driver's operations, deduplicated by object, name and arity (the first spec's
/// doc wins; drivers that share a name share its meaning).
pub fn all_specs() -> Vec<OperationSpec> {
    let mut seen = BTreeSet::new();
    hascript_ldoms::operations::specs()
        .into_iter()
        .chain(hascript_hpvm::operations::specs())
        .filter(|s| seen.insert((s.object, s.name, s.params.len())))
        .collect()
}

fn receiver_type(o: Object) -> (TypeId, &'static str) {
    match o {
        Object::Cluster => (TypeId::of::<ClusterObj>(), "Cluster"),
        Object::Fence => (TypeId::of::<FenceObj>(), "Fence"),
        Object::Hypervisor => (TypeId::of::<HypervisorObj>(), "Hypervisor"),
        Object::Package => (TypeId::of::<PackageObj>(), "Package"),
    }
}

fn param_type(t: ParamType) -> TypeId {
    match t {
        ParamType::Str => TypeId::of::<rhai::ImmutableString>(),
        ParamType::Int => TypeId::of::<rhai::INT>(),
        ParamType::Map => TypeId::of::<rhai::Map>(),
        ParamType::Strings => TypeId::of::<rhai::Array>(),
    }
}

/// The site behind a receiver (the object handles all carry it).
fn site_of(d: &Dynamic) -> Option<Arc<dyn hascript_api::Site>> {
    if let Some(c) = d.read_lock::<ClusterObj>() {
        return Some(c.site());
    }
    if let Some(f) = d.read_lock::<FenceObj>() {
        return Some(f.site());
    }
    if let Some(h) = d.read_lock::<HypervisorObj>() {
        return Some(h.site());
    }
    d.read_lock::<PackageObj>().map(|p| p.site())
}

/// Register every operation of [`all_specs`].
pub fn register(engine: &mut Engine) {
    let mut module = Module::new();
    for spec in all_specs() {
        let (recv, recv_name) = receiver_type(spec.object);
        let mut types = vec![recv];
        types.extend(spec.params.iter().map(|p| param_type(p.ty)));
        let mut info = vec![format!("{}: {recv_name}", spec.object.name())];
        info.extend(
            spec.params
                .iter()
                .map(|p| format!("{}: {}", p.name, p.ty.name())),
        );
        info.push(spec.ret.to_string());
        let doc = format!("{}\n\n({} operation)", spec.doc, spec.kind.name());
        let comment = doc
            .lines()
            .map(|l| format!("/// {l}").trim_end().to_string())
            .collect::<Vec<_>>()
            .join("\n");
        let object = spec.object;
        let name = spec.name;
        let params = spec.params;
        let func = move |ctx: Option<NativeCallContext>, args: &mut [&mut Dynamic]| {
            let pos = ctx
                .as_ref()
                .map(|c| c.call_position())
                .unwrap_or(rhai::Position::NONE);
            let Some(site) = args.first().and_then(|d| site_of(d)) else {
                return Err(usage(format!("{}.{name}: no site", object.name()), pos));
            };
            let mut json = Vec::with_capacity(args.len().saturating_sub(1));
            for (i, a) in args.iter().enumerate().skip(1) {
                // An array of strings is checked here, naming the first element that is
                // not one (the driver never sees it).
                if params.get(i - 1).map(|p| p.ty) == Some(ParamType::Strings) {
                    if let Some(arr) = a.read_lock::<rhai::Array>() {
                        let what = format!("{}.{name}: {}", object.name(), params[i - 1].name);
                        super::hypervisor::strings(&arr, &what).map_err(|m| usage(m, pos))?;
                    }
                }
                let v: serde_json::Value = rhai::serde::from_dynamic(a).map_err(|e| {
                    usage(format!("{}.{name}: argument {i}: {e}", object.name()), pos)
                })?;
                json.push(v);
            }
            lift(site.operation(object, name, &json), pos)
        };
        FuncRegistration::new(name)
            .with_params_info(info)
            .with_comments([comment])
            .in_global_namespace()
            .set_into_module_raw(
                &mut module,
                types,
                RhaiFunc::Method {
                    func: Arc::new(func),
                    has_context: true,
                    is_pure: true,
                    is_volatile: true,
                },
            );
    }
    engine.register_global_module(module.into());
}

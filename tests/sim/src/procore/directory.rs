//! The company side (fact sheet §8.1, §8.2, §8.7): `/me`, companies, projects, company vendors,
//! cost codes and cost types (`line_item_types`).
//!
//! - `GET /rest/v1.0/companies` lists only the companies where the app is installed **[C]**.
//! - Projects list active ones unless `filters[by_status]=All|Inactive` **[C]**, and only the
//!   projects the company admin permitted for the app **[C: non-admin DMSA users]**; v1.1 pages
//!   100 by default, 300 at most **[C]**.
//! - Vendors list active vendors, `view=extended` by default **[C]**; the tax id lives only in
//!   `business_id` / `business_register` **[C]**; `filters[search]` matches the name, the
//!   abbreviated name, `origin_code` and the tax id **[C]**.
//! - Cost codes are per project, two levels, `full_code` = `"<division>-<code>"`; they have no
//!   `updated_at` filter (an unsupported filter is ignored by default) **[C]**.
//! - Cost types are company-wide; `base_type` may be null **[C]**.

use serde_json::{Value, json};

use super::api::{Call, Filters, PageRules, Reply, Route, in_range, project, project_param, project_permitted};
use super::model::{CostCode, Project, Vendor, opt_date, opt_stamp};
use super::model::{MoneyKind, money};
use super::state::{ApiError, ProcoreState};

/// Route a company-side call.
pub fn route(st: &mut ProcoreState, call: &Call) -> Result<Reply, ApiError> {
    match call.route {
        Route::Me => {
            let app = st.app(&call.client_id).ok_or_else(ApiError::not_found)?;
            Ok(Reply::Json(200, json!({ "id": app.user_id, "login": app.user_login, "name": app.name })))
        }
        Route::Companies => {
            let app = st.app(&call.client_id).ok_or_else(ApiError::not_found)?;
            let rows = st
                .companies
                .iter()
                .filter(|c| app.installs.iter().any(|i| i.company_id == c.id))
                .map(|c| {
                    json!({ "id": c.id, "name": c.name, "is_active": c.is_active, "logo_url": c.logo_url,
                            "pcn_business_experience": null, "my_company": false })
                })
                .collect();
            Ok(Reply::List(rows, PageRules::standard(st)))
        }
        Route::Projects { v11 } => {
            let company = call.company_id()?;
            list_projects(st, call, company, v11)
        }
        Route::CompanyProjects(c) => {
            if call.company.is_some_and(|h| h != c) {
                return Err(ApiError::not_connected());
            }
            list_projects(st, call, c, false)
        }
        Route::ProjectShow(id) => {
            let p = project(st, call, id)?;
            Ok(Reply::Json(200, project_json(st, p)))
        }
        Route::Vendors => {
            let company = call.company_id()?;
            let f = Filters::read(st, &call.params, &["origin_id", "search", "created_at", "updated_at", "id"])?;
            let (ids, created, updated) = (f.ids("id")?, f.range("created_at")?, f.range("updated_at")?);
            let search = f.get("search").map(str::to_lowercase);
            let origin = f.get("origin_id");
            let compact = call.params.get("view") == Some("compact");
            let mut rows: Vec<&Vendor> = st
                .vendors
                .iter()
                .filter(|v| v.company_id == company && v.is_active)
                .filter(|v| ids.as_ref().is_none_or(|ids| ids.contains(&v.id)))
                .filter(|v| origin.is_none_or(|o| v.origin_id.as_deref() == Some(o)))
                .filter(|v| in_range(&v.created_at, &created) && in_range(&v.updated_at, &updated))
                .filter(|v| search.as_ref().is_none_or(|s| vendor_matches(v, s)))
                .collect();
            if call.params.get("sort").map(|s| s.trim_start_matches('-')) == Some("name") {
                rows.sort_by_key(|v| v.name.to_lowercase());
                if call.params.get("sort").is_some_and(|s| s.starts_with('-')) {
                    rows.reverse();
                }
            }
            let rows = rows.into_iter().map(|v| if compact { vendor_compact(v) } else { vendor_json(v) }).collect();
            Ok(Reply::List(rows, PageRules::standard(st)))
        }
        Route::VendorShow(id) => {
            let company = call.company_id()?;
            let v = st.vendor(id).filter(|v| v.company_id == company).ok_or_else(ApiError::not_found)?;
            Ok(Reply::Json(200, vendor_json(v)))
        }
        Route::CostCodes => {
            let p = project_param(st, call)?;
            let f = Filters::read(st, &call.params, &["id", "origin_id"])?;
            let ids = f.ids("id")?;
            let origin = f.get("origin_id");
            let rows = st
                .cost_codes
                .iter()
                .filter(|c| c.project_id == p.id && c.deleted_at.is_none())
                .filter(|c| ids.as_ref().is_none_or(|ids| ids.contains(&c.id)))
                .filter(|c| origin.is_none_or(|o| c.origin_id.as_deref() == Some(o)))
                .map(|c| cost_code_json(st, c))
                .collect();
            Ok(Reply::List(rows, PageRules::standard(st)))
        }
        Route::CostCodeShow(id) => {
            let p = project_param(st, call)?;
            let c = st.cost_code(id).filter(|c| c.project_id == p.id).ok_or_else(ApiError::not_found)?;
            Ok(Reply::Json(200, cost_code_json(st, c)))
        }
        Route::LineItemTypes => {
            let company = match call.params.id("project_id")? {
                Some(pid) => project(st, call, pid)?.company_id,
                None => call.company_id()?,
            };
            let f = Filters::read(st, &call.params, &["origin_id"])?;
            let origin = f.get("origin_id");
            let rows = st
                .line_item_types
                .iter()
                .filter(|t| t.company_id == company)
                .filter(|t| origin.is_none_or(|o| t.origin_id.as_deref() == Some(o)))
                .map(|t| {
                    json!({ "id": t.id, "name": t.name, "code": t.code, "base_type": t.base_type,
                            "origin_id": t.origin_id, "origin_data": t.origin_data })
                })
                .collect();
            Ok(Reply::List(rows, PageRules::standard(st)))
        }
        _ => Err(ApiError::not_found()),
    }
}

fn list_projects(st: &ProcoreState, call: &Call, company: i64, v11: bool) -> Result<Reply, ApiError> {
    let f = Filters::read(
        st,
        &call.params,
        &["by_status", "id", "origin_id", "updated_at", "created_at", "name", "project_number"],
    )?;
    let (ids, created, updated) = (f.ids("id")?, f.range("created_at")?, f.range("updated_at")?);
    let status = f.get("by_status").unwrap_or("Active").to_ascii_lowercase();
    if !matches!(status.as_str(), "all" | "active" | "inactive") {
        return Err(ApiError::bad("filters[by_status] must be All, Active or Inactive"));
    }
    let name = f.get("name").map(str::to_lowercase);
    let number = f.get("project_number");
    let origin = f.get("origin_id");
    let rows = st
        .projects
        .iter()
        .filter(|p| p.company_id == company && project_permitted(st, call, p.id))
        .filter(|p| match status.as_str() {
            "active" => p.active,
            "inactive" => !p.active,
            _ => true,
        })
        .filter(|p| ids.as_ref().is_none_or(|ids| ids.contains(&p.id)))
        .filter(|p| origin.is_none_or(|o| p.origin_id.as_deref() == Some(o)))
        .filter(|p| number.is_none_or(|n| p.project_number.as_deref() == Some(n)))
        .filter(|p| name.as_ref().is_none_or(|n| p.name.to_lowercase().contains(n.as_str())))
        .filter(|p| in_range(&p.created_at, &created) && in_range(&p.updated_at, &updated))
        .map(|p| project_json(st, p))
        .collect();
    let rules =
        if v11 { PageRules { default: 100, max: st.switches.projects_max_per_page } } else { PageRules::standard(st) };
    Ok(Reply::List(rows, rules))
}

/// A project as the API shows it.
pub fn project_json(st: &ProcoreState, p: &Project) -> Value {
    let company = st.company(p.company_id);
    let display = match &p.project_number {
        Some(n) if !n.is_empty() => format!("{n} - {}", p.name),
        _ => p.name.clone(),
    };
    json!({
        "id": p.id, "name": p.name, "display_name": display, "project_number": p.project_number,
        "address": p.address, "city": p.city, "state_code": p.state_code, "zip": p.zip,
        "country_code": p.country_code, "time_zone": p.time_zone, "stage": p.stage,
        "project_stage": p.stage.as_ref().map(|s| json!({"id": 1, "name": s})),
        "active": p.active, "origin_id": p.origin_id, "origin_data": p.origin_data, "origin_code": p.origin_code,
        "accounting_project_number": p.accounting_project_number,
        "start_date": opt_date(&p.start_date), "completion_date": opt_date(&p.completion_date),
        "total_value": p.total_value.map(|v| money(v, MoneyKind::Invoice, st.switches.money_style)),
        "company": company.map(|c| json!({"id": c.id, "name": c.name})),
        "created_at": opt_stamp(&p.created_at), "updated_at": opt_stamp(&p.updated_at),
    })
}

fn vendor_matches(v: &Vendor, s: &str) -> bool {
    let hit = |x: &Option<String>| x.as_deref().is_some_and(|x| x.to_lowercase().contains(s));
    let digits = |x: &str| x.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
    v.name.to_lowercase().contains(s)
        || hit(&v.abbreviated_name)
        || hit(&v.origin_code)
        || hit(&v.business_id)
        || v.business_register
            .as_ref()
            .is_some_and(|b| !digits(s).is_empty() && digits(&b.identifier).contains(&digits(s)))
}

fn vendor_compact(v: &Vendor) -> Value {
    json!({ "id": v.id, "name": v.name, "is_active": v.is_active, "origin_id": v.origin_id })
}

/// A vendor, `view=extended` (the default) **[C]**.
pub fn vendor_json(v: &Vendor) -> Value {
    json!({
        "id": v.id, "name": v.name, "abbreviated_name": v.abbreviated_name, "legal_name": v.legal_name,
        "trade_name": v.trade_name, "address": v.address, "city": v.city, "state_code": v.state_code,
        "zip": v.zip, "country_code": v.country_code, "business_phone": v.business_phone,
        "mobile_phone": null, "fax_number": v.fax_number, "email_address": v.email_address,
        "website": v.website, "business_id": v.business_id,
        "business_register": v.business_register.as_ref().map(|b| json!({
            "id": b.id, "type": b.kind, "identifier": b.identifier,
            "verified_at": opt_stamp(&b.verified_at), "verification_status": b.verification_status,
        })),
        "license_number": v.license_number, "labor_union": null, "union_member": false,
        "is_active": v.is_active, "is_connected": false, "origin_id": v.origin_id, "origin_code": v.origin_code,
        "origin_data": v.origin_data, "synced_to_erp": v.origin_id.is_some(),
        "primary_contact": null, "vendor_group": null, "parent": null, "children_count": 0,
        "project_ids": v.project_ids,
        "trades": v.trades.iter().enumerate().map(|(i, t)| json!({"id": i + 1, "name": t})).collect::<Vec<_>>(),
        "standard_cost_codes": [],
        "created_at": opt_stamp(&v.created_at), "updated_at": opt_stamp(&v.updated_at),
    })
}

/// A cost code.
pub fn cost_code_json(st: &ProcoreState, c: &CostCode) -> Value {
    let project = st.project(c.project_id);
    json!({
        "id": c.id, "code": c.code, "full_code": st.full_code(c), "name": c.name,
        "parent": c.parent_id.map(|p| json!({"id": p})), "position": c.position,
        "biller": project.map(|p| p.name.clone()), "biller_id": c.project_id, "biller_type": "Project",
        "biller_origin_id": project.and_then(|p| p.origin_id.clone()), "budgeted": false,
        "standard_cost_code_id": null, "standard_cost_code_list_id": null,
        "sortable_code": st.full_code(c), "origin_id": c.origin_id, "origin_data": c.origin_data,
        "line_item_types": [],
        "created_at": opt_stamp(&c.created_at), "updated_at": opt_stamp(&c.updated_at), "deleted_at": opt_stamp(&c.deleted_at),
    })
}

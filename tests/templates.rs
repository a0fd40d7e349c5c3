//! Message templates: load-time checks (unknown variables with the closest
//! name and their place, unset secrets, dry render) and strict rendering.
#![cfg(feature = "config")]

use hookflow::template::{Template, TemplateErrorKind};
use hookflow::{ErrorKind, FailedStep, HookContext, Status, StepError};

fn failed() -> HookContext {
    HookContext::builder()
        .step("load")
        .pipeline("nightly")
        .status(Status::Failed)
        .error(StepError::manual(
            "load",
            ErrorKind::Timeout,
            "timed out after 2s",
        ))
        .attempt(3)
        .max_attempts(3)
        .build()
}

#[test]
fn renders_every_hook_variable() {
    let ctx = failed();
    let t = Template::compile(
        "{{ hook.step_name }}|{{ hook.pipeline }}|{{ hook.run_id }}|{{ hook.status }}|\
         {{ hook.is_success }}|{{ hook.error_message }}|{{ hook.error_kind }}|\
         {{ hook.attempt }}/{{ hook.max_attempts }}|{{ hook.duration_secs >= 0 }}",
    )
    .unwrap();
    let run_id = ctx.run_id().unwrap();
    assert_eq!(
        t.render(&ctx).unwrap(),
        format!("load|nightly|{run_id}|failed|false|timed out after 2s|timeout|3/3|true")
    );
}

#[test]
fn renders_failed_steps_and_timestamps() {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    let ctx = HookContext::builder()
        .pipeline("nightly")
        .status(Status::Failed)
        .started_at(at)
        .finished_at(at + std::time::Duration::from_millis(1500))
        .failed_step(FailedStep::new("load", "disk full", ErrorKind::Error))
        .failed_step(FailedStep::new("send", "boom", ErrorKind::Panic))
        .build();
    let t = Template::compile(
        "{{ hook.started_at }} {{ hook.completed_at }} {{ hook.duration_secs }}:\
         {% for s in hook.failed_steps %} {{ s.step_name }}={{ s.error_kind }}({{ s.error_message }}){% endfor %}",
    )
    .unwrap();
    assert_eq!(
        t.render(&ctx).unwrap(),
        "2023-11-14T22:13:20.000Z 2023-11-14T22:13:21.500Z 1.5: load=error(disk full) send=panic(boom)"
    );
}

#[test]
fn a_value_that_is_absent_renders_as_nothing() {
    let ctx = HookContext::builder()
        .pipeline("nightly")
        .status(Status::Completed)
        .build();
    let t =
        Template::compile("[{{ hook.step_name }}][{{ hook.error_message }}] {{ hook.pipeline }}")
            .unwrap();
    assert_eq!(t.render(&ctx).unwrap(), "[][] nightly");
}

#[test]
fn an_unknown_hook_variable_names_the_closest_one_and_its_place() {
    let source = "Deploy:\n  {{ hook.stpe_name }} FAILED: {{ hook.error_mesage }}";
    let err = Template::compile(source).unwrap_err();
    let errors = err.errors();
    assert_eq!(errors.len(), 2, "{err}");
    assert_eq!(errors[0].kind(), TemplateErrorKind::UnknownVariable);
    assert_eq!(errors[0].suggestion(), Some("hook.step_name"));
    assert_eq!(errors[0].offset(), Some(source.find("stpe_name").unwrap()));
    assert_eq!(errors[0].line_col(source), Some((2, 11)));
    assert_eq!(
        errors[0].message(),
        "unknown variable `hook.stpe_name`; did you mean `hook.step_name`?"
    );
    assert_eq!(errors[1].suggestion(), Some("hook.error_message"));
    assert_eq!(
        errors[1].offset(),
        Some(source.find("error_mesage").unwrap())
    );
}

#[test]
fn an_unknown_top_level_name_is_reported() {
    let err = Template::compile("{{ hokk.step_name }} and {{ total }}").unwrap_err();
    let errors = err.errors();
    assert_eq!(errors.len(), 2, "{err}");
    assert_eq!(errors[0].suggestion(), Some("hook"));
    assert_eq!(errors[0].offset(), Some(3));
    assert_eq!(errors[1].suggestion(), None);
    assert!(
        errors[1]
            .message()
            .contains("the variables are `hook.NAME`"),
        "{}",
        errors[1]
    );
}

#[test]
fn a_syntax_error_is_reported_with_its_line() {
    let source = "line one\n{{ hook.step_name ";
    let err = Template::compile(source).unwrap_err();
    assert_eq!(err.errors()[0].kind(), TemplateErrorKind::Syntax);
    assert_eq!(err.errors()[0].line(source), Some(2));
}

#[test]
fn an_unset_secret_names_the_variable() {
    let err = Template::compile("{{ secret.HOOKFLOW_TEST_UNSET_SECRET }}").unwrap_err();
    let e = &err.errors()[0];
    assert_eq!(e.kind(), TemplateErrorKind::UnsetSecret);
    assert_eq!(
        e.message(),
        "secret `HOOKFLOW_TEST_UNSET_SECRET`: the environment variable `HOOKFLOW_TEST_UNSET_SECRET` is not set"
    );
    assert_eq!(e.offset(), Some(10));
}

#[test]
fn a_set_secret_renders_and_is_listed() {
    std::env::set_var("HOOKFLOW_TEST_TEMPLATE_SECRET", "tmpl-secret-value-42");
    let t = Template::compile("token={{ secret.HOOKFLOW_TEST_TEMPLATE_SECRET }}").unwrap();
    assert_eq!(
        t.secret_names().collect::<Vec<_>>(),
        ["HOOKFLOW_TEST_TEMPLATE_SECRET"]
    );
    assert_eq!(t.render(&failed()).unwrap(), "token=tmpl-secret-value-42");
    assert!(!format!("{t:?}").contains("tmpl-secret-value-42"));
}

#[test]
fn bare_secret_is_rejected() {
    let err = Template::compile("{{ secret }}").unwrap_err();
    assert_eq!(err.errors()[0].kind(), TemplateErrorKind::UnknownVariable);
    assert!(err.to_string().contains("`secret.NAME`"), "{err}");
}

#[test]
fn the_dry_render_catches_unknown_filters_and_type_errors() {
    let err = Template::compile("{{ hook.step_name | shout }}").unwrap_err();
    assert_eq!(err.errors()[0].kind(), TemplateErrorKind::Render);
    assert!(err.to_string().contains("unknown filter"), "{err}");

    let err = Template::compile("{{ hook.attempt + hook.step_name }}").unwrap_err();
    assert_eq!(err.errors()[0].kind(), TemplateErrorKind::Render);

    let err =
        Template::compile("{% for s in hook.failed_steps %}{{ s.name }}{% endfor %}").unwrap_err();
    assert_eq!(err.errors()[0].kind(), TemplateErrorKind::Render);
    assert!(
        err.to_string()
            .contains("step_name, error_message, error_kind"),
        "{err}"
    );
}

#[test]
fn debug_is_not_available_to_dump_the_context() {
    let err = Template::compile("{{ debug() }}").unwrap_err();
    assert_eq!(err.errors()[0].kind(), TemplateErrorKind::UnknownVariable);
}

#[test]
fn filters_and_conditions_work() {
    let t = Template::compile(
        "{% if not hook.is_success %}{{ hook.step_name | upper }} {{ hook.error_kind }}{% endif %}",
    )
    .unwrap();
    assert_eq!(t.render(&failed()).unwrap(), "LOAD timeout");
}

#[test]
fn the_dry_render_checks_the_branches_taken_on_the_status() {
    // An unknown filter in a branch only a success takes.
    let errors =
        Template::compile("{% if hook.is_success %}{{ hook.step_name | uppper }}{% endif %}")
            .unwrap_err();
    assert!(errors.to_string().contains("uppper"), "{errors}");
    // … in the branch of a run without failed steps.
    let errors = Template::compile(
        "{% if hook.failed_steps %}{{ hook.failed_steps | length }}{% else %}{{ 1 | nosuch }}{% endif %}",
    )
    .unwrap_err();
    assert!(errors.to_string().contains("nosuch"), "{errors}");
    // … and of a cancelled call.
    let errors =
        Template::compile("{% if hook.status == 'cancelled' %}{{ hook.attempt | bad }}{% endif %}")
            .unwrap_err();
    assert!(errors.to_string().contains("bad"), "{errors}");
    // Valid branches on all of them load.
    Template::compile(
        "{% if hook.is_success %}ok{% elif hook.status == 'crashed' %}{{ hook.error_message | upper }}{% endif %}",
    )
    .unwrap();
}

#[test]
fn a_runaway_loop_fails_to_load_instead_of_running_on() {
    let errors = Template::compile(
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    )
    .unwrap_err();
    assert_eq!(
        errors.errors()[0].kind(),
        TemplateErrorKind::Render,
        "{errors}"
    );
    assert!(errors.to_string().contains("fuel"), "{errors}");
}

#[test]
fn a_message_over_thousands_of_failed_steps_renders_within_the_bound() {
    let t = Template::compile(
        "{% for s in hook.failed_steps %}{{ s.step_name }}: {{ s.error_message }} ({{ s.error_kind }})\n{% endfor %}",
    )
    .unwrap();
    let mut ctx = HookContext::builder()
        .pipeline("nightly")
        .status(Status::Failed);
    for i in 0..2_000 {
        ctx = ctx.failed_step(FailedStep::new(
            format!("step{i}"),
            "disk full",
            ErrorKind::Error,
        ));
    }
    let text = t.render(&ctx.build()).unwrap();
    assert_eq!(text.lines().count(), 2_000);
    assert!(text.ends_with("step1999: disk full (error)\n"));
}

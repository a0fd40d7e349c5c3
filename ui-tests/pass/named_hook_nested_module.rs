// Hooks in nested (and private) modules are registered under their full
// path, and found by it, by `crate::…` and by their bare name.
use hookflow::named::{self, HookShape};

mod ops {
    pub mod alerts {
        use hookflow::prelude::*;

        #[hook]
        pub(crate) fn page_oncall(_ctx: &HookContext, _err: &StepError) {}
    }

    mod private {
        use hookflow::hook;

        #[hook]
        async fn quiet() {}
    }
}

fn main() {
    let krate = module_path!();
    let h = named::hook(&format!("{krate}::ops::alerts::page_oncall"), None).unwrap();
    assert_eq!(h.shape(), HookShape::CtxErr);
    let same = named::hook("crate::ops::alerts::page_oncall", Some(krate)).unwrap();
    assert_eq!(same.path(), h.path());
    assert_eq!(named::hook("page_oncall", None).unwrap().path(), h.path());
    let quiet = named::hook("quiet", None).unwrap();
    assert_eq!(quiet.path(), format!("{krate}::ops::private::quiet"));
    assert!(quiet.is_async());
}

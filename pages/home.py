"""A user's homepage: the layout's tiles filled by the optimizer, each row titled by the language model."""

import streamlit as st

from pagegen.app import render
from pagegen.app.caches import title_backend
from pagegen.app.sidebar import sidebar
from pagegen.optimizer import solver_line

context = sidebar("home")
state, service = context.state, context.service

who = "a new user" if state.is_new_user else f"user {state.user}"
st.title(f"Home for {who}")
st.html(render.STYLE)  # before the page is solved, so the cards never arrive unstyled
page = context.page_or_stop()

with st.sidebar:
    st.subheader("Recently watched" if not state.is_new_user else "Liked")
    recent = service.recent(context.request.user_id, liked=state.liked)
    st.html(render.history_html(recent) if recent else "<em>Nothing yet: pick a few films above.</em>")

report = page.report
st.caption(
    f"{context.layout.name} · {solver_line(report)} · {(report.build_seconds + report.solve_seconds) * 1000:.0f} ms"
    + (f" · {report.message}" if report.message else "")
)
if report.relaxations:
    relaxed = "; ".join(relaxation.describe() for relaxation in report.relaxations)
    st.info(f"Relaxed to fit the page: {relaxed}", icon=":material/balance:")
if context.held_out is not None and context.held_out in page.item_ids:
    where = next(
        (row.title, row.items.index(i)) for row in page.rows for i in row.items if i.item_id == context.held_out
    )
    st.success(
        f"Hit: the film this user watched next is on the page ({where[0]!r}, card {where[1] + 1}).",
        icon=":material/target:",
    )

slots = [st.empty() for _ in page.rows]
for slot, block in zip(slots, render.page_html(page, held_out=context.held_out), strict=True):
    slot.html(block)

# Titles last: the page is already on screen while the model writes them.
backend = title_backend(state.backend, str(service.data_dir))
titled, titles = service.title(page, backend)
for slot, before, after in zip(slots, page.rows, titled.rows, strict=True):
    if (after.title, after.title_source) != (before.title, before.title_source):
        slot.html(render.row_html(after, held_out=context.held_out))
fallbacks = titles.from_template if backend.generates else 0
if titles.notice:
    st.warning(titles.notice, icon=":material/power_off:")
elif fallbacks:
    st.info(
        f"Titles by {titles.backend}: {titles.from_model} new, {titles.from_cache} cached, "
        f"{fallbacks} fell back to the template (hover a row's title badge for why).",
        icon=":material/title:",
    )

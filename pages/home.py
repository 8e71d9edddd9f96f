"""A user's homepage: the layout's tiles filled by the optimizer, each row titled by the language model,
with the rows the visitor asks for in the chat input on top (newest first; kept in the session and the
link until cleared).

The page is drawn with the titles already cached; the background titler writes the others, and the rows
take them in place as they come, while the page stays free to use."""

import streamlit as st

from pagegen.app import render
from pagegen.app.caches import background_titler, title_backend
from pagegen.app.sidebar import ask_for_a_row, clear_asks, sidebar
from pagegen.app.titling import POLL_SECONDS, TitleJob, titles_now
from pagegen.optimizer import plain_solver_line, solver_line
from pagegen.vocabulary import MAX_REQUEST_CHARS

context = sidebar("home")
state, service = context.state, context.service

who = "a new user" if state.is_new_user else f"user {state.user}"
st.title(f"Home for {who}")
# In a block of the page, not pinned to the window's foot (that opens the page scrolled to its end, far
# from the asked rows); drawn before the page is solved, so the visitor can type meanwhile.
ask, clear = st.columns([5, 1], vertical_alignment="center") if state.asks else (st.container(), None)
ask.chat_input(
    "Ask for a row, e.g. 80s horror or something like Alien but funny",
    key="home.ask",
    max_chars=MAX_REQUEST_CHARS,
    on_submit=ask_for_a_row,
    args=("home.ask",),
)
if clear is not None:
    clear.button("Clear requests", icon=":material/clear_all:", on_click=clear_asks, key="home.clear", width="stretch")
st.html(render.STYLE)  # before the page is solved, so the cards never arrive unstyled
asked = context.asked_page_or_stop()
page = asked.page
for request in asked.asked:
    st.container(border=True).text("\n".join(render.asked_lines(request)))

with st.sidebar:
    st.subheader("Recently watched" if not state.is_new_user else "Liked")
    recent = service.recent(context.request.user_id, liked=state.liked)
    st.html(render.history_html(recent) if recent else "<em>Nothing yet: pick a few films above.</em>")

report = page.report
st.caption(
    f"{context.layout.name} · {plain_solver_line(report)} · {page.expected_good_picks:.2f} expected good picks seen"
    f" · {(report.build_seconds + report.solve_seconds) * 1000:.0f} ms",
    help=f"{solver_line(report)}{f'; {report.message}' if report.message else ''}. Expected good picks: the cards"
    " this user would want, weighted by the chance they look at each (higher tiles and earlier cards more).",
)
if report.relaxations:
    relaxed = "; ".join(relaxation.describe() for relaxation in report.relaxations)
    st.info(f"Relaxed to fit the page: {relaxed}", icon=":material/balance:")

backend = title_backend(state.backend, str(service.data_dir))
job = TitleJob(page, backend, service.title)
titles = titles_now(job, background_titler(), st.session_state)
if context.held_out is not None and context.held_out in page.item_ids:
    where = next(
        (row.title, row.items.index(i)) for row in titles.page.rows for i in row.items if i.item_id == context.held_out
    )
    st.success(
        f"Hit: the film this user watched next is on the page ({where[0]!r}, card {where[1] + 1}).",
        icon=":material/target:",
    )


@st.fragment(run_every=POLL_SECONDS if titles.job is not None else None)
def rows(job: TitleJob, held_out: int | None, polling: bool) -> None:
    """The rows, drawn again while their titles come in; once all are in, the page runs again (which
    stops the polling and says where the titles came from)."""
    now = titles_now(job, background_titler(), st.session_state)
    for block in render.page_html(now.page, held_out=held_out):
        st.html(block)
    if now.job is not None:
        st.caption(f"{job.backend.name} is writing {now.report.pending} row titles; they appear in place.")
    elif polling:
        st.rerun()


rows(job, context.held_out, titles.job is not None)
if titles.job is None:  # where the titles came from, once they are all in
    fallbacks = titles.report.from_template if backend.generates else 0
    if titles.error:
        st.warning(f"{backend.name} could not title this page ({titles.error}); template titles shown")
    elif titles.report.notice:
        st.warning(titles.report.notice, icon=":material/power_off:")
    elif fallbacks:
        st.info(
            f"Titles by {titles.report.backend}: {titles.report.from_model} new, {titles.report.from_cache} "
            f"cached, {fallbacks} fell back to the template (hover a row's title badge for why).",
            icon=":material/title:",
        )

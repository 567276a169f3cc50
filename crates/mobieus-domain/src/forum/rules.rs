//! Who may do what. Each check returns the refusal a person is shown, or `Ok`.

use super::{Post, Thread, User};

/// Why a forum action was refused. Messages are one line, for the CLI and problem documents.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("{0} has left the forum")]
    UserLeft(String),
    #[error("{0} is banned")]
    Banned(String),
    #[error("thread {0} is locked")]
    ThreadLocked(String),
    #[error("{0} is not a moderator")]
    NotModerator(String),
    #[error("{actor} may not moderate {target}: {why}")]
    CannotModerateUser {
        actor: String,
        target: String,
        why: &'static str,
    },
    #[error("{actor} may not change post {post}: only its author or a moderator may")]
    NotAuthor { actor: String, post: String },
    #[error("post {0} is deleted or removed")]
    PostGone(String),
}

fn active(user: &User) -> Result<(), Refusal> {
    if !user.is_active() {
        return Err(Refusal::UserLeft(user.username.clone()));
    }
    if user.banned {
        return Err(Refusal::Banned(user.username.clone()));
    }
    Ok(())
}

/// A member may post in a thread when they are active, not banned, and it is not locked.
pub fn can_post_in(author: &User, thread: &Thread) -> Result<(), Refusal> {
    active(author)?;
    if thread.locked {
        return Err(Refusal::ThreadLocked(thread.id.to_string()));
    }
    Ok(())
}

/// A visible post may be edited or deleted by its author or by a moderator.
pub fn can_edit_post(actor: &User, post: &Post) -> Result<(), Refusal> {
    active(actor)?;
    if !post.is_visible() {
        return Err(Refusal::PostGone(post.id.to_string()));
    }
    if post.author.id != actor.id && !actor.role.moderates() {
        return Err(Refusal::NotAuthor {
            actor: actor.username.clone(),
            post: post.id.to_string(),
        });
    }
    Ok(())
}

/// Moderating content takes an active, unbanned moderator or admin.
pub fn can_moderate(actor: &User) -> Result<(), Refusal> {
    active(actor)?;
    if !actor.role.moderates() {
        return Err(Refusal::NotModerator(actor.username.clone()));
    }
    Ok(())
}

/// Banning and unbanning a member also takes outranking them: moderators act on members,
/// admins on moderators and members, nobody on themselves.
pub fn can_moderate_user(actor: &User, target: &User) -> Result<(), Refusal> {
    can_moderate(actor)?;
    let refuse = |why| Refusal::CannotModerateUser {
        actor: actor.username.clone(),
        target: target.username.clone(),
        why,
    };
    if actor.id == target.id {
        return Err(refuse("not oneself"));
    }
    if target.role >= actor.role {
        return Err(refuse("only a higher role may"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forum::{PostId, PostStatus, Role, ThreadId, UserId, UserStatus};
    use crate::time::Timestamp;

    fn user(id: i64, role: Role) -> User {
        User {
            id: UserId(id),
            username: format!("u{id}"),
            email: None,
            role,
            banned: false,
            status: UserStatus::Active,
            joined_at: Timestamp::from_millis(0),
            left_at: None,
        }
    }

    fn thread(locked: bool) -> Thread {
        Thread {
            id: ThreadId(1),
            title: "t".into(),
            author: user(1, Role::Member).as_ref(),
            locked,
            created_at: Timestamp::from_millis(0),
        }
    }

    fn post(author: &User, status: PostStatus) -> Post {
        Post {
            id: PostId(7),
            thread_id: ThreadId(1),
            author: author.as_ref(),
            body: Some("b".into()),
            status,
            opens_thread: false,
            created_at: Timestamp::from_millis(0),
            edited_at: None,
        }
    }

    #[test]
    fn posting_needs_an_active_unbanned_member_and_an_open_thread() {
        let mut ann = user(1, Role::Member);
        assert!(can_post_in(&ann, &thread(false)).is_ok());
        assert_eq!(
            can_post_in(&ann, &thread(true)),
            Err(Refusal::ThreadLocked("1".into()))
        );
        ann.banned = true;
        assert!(matches!(
            can_post_in(&ann, &thread(false)),
            Err(Refusal::Banned(_))
        ));
        ann.banned = false;
        ann.status = UserStatus::Left;
        assert!(matches!(
            can_post_in(&ann, &thread(false)),
            Err(Refusal::UserLeft(_))
        ));
    }

    #[test]
    fn editing_is_for_the_author_or_a_moderator() {
        let ann = user(1, Role::Member);
        let bob = user(2, Role::Member);
        let mia = user(3, Role::Moderator);
        let p = post(&ann, PostStatus::Visible);
        assert!(can_edit_post(&ann, &p).is_ok());
        assert!(can_edit_post(&mia, &p).is_ok());
        assert!(matches!(
            can_edit_post(&bob, &p),
            Err(Refusal::NotAuthor { .. })
        ));
        assert!(matches!(
            can_edit_post(&ann, &post(&ann, PostStatus::Deleted)),
            Err(Refusal::PostGone(_))
        ));
    }

    #[test]
    fn banning_needs_a_higher_role() {
        let member = user(1, Role::Member);
        let moderator = user(2, Role::Moderator);
        let admin = user(3, Role::Admin);
        assert!(can_moderate_user(&moderator, &member).is_ok());
        assert!(can_moderate_user(&admin, &moderator).is_ok());
        assert!(can_moderate_user(&member, &moderator).is_err());
        assert!(can_moderate_user(&moderator, &admin).is_err());
        assert!(can_moderate_user(&moderator, &user(4, Role::Moderator)).is_err());
        assert!(can_moderate_user(&admin, &admin).is_err());
    }
}
